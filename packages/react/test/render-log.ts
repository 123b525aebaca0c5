/**
 * renderLog: mounts a hook in a component and records the value of every committed render, so a
 * test can await a value (on React's commit, never by polling) and count renders.
 *
 * Updates from the relay arrive outside `act`, as in an app: React renders them on its own
 * schedule, and each commit is recorded.
 */
import { render, type RenderResult } from '@testing-library/react'
import { createElement, Suspense, useLayoutEffect, type ComponentType, type ReactNode } from 'react'

/** The committed values of a hook and a way to wait for one. */
export interface RenderLog<T> {
  /** Every committed render's value, in order. */
  readonly values: T[]
  /** The latest committed value. */
  latest(): T
  /** Resolves with the first committed value (the latest included) for which `check` holds. */
  until(check: (value: T) => boolean, what: string, timeoutMs?: number): Promise<T>
  /** Renders the same tree again (as a parent's re-render would). */
  rerender(): void
  readonly result: RenderResult
}

/** Mounts `useValue` (inside `wrapper`, and `<Suspense fallback>` when given) and logs its commits. */
export const renderLog = <T>(
  useValue: () => T,
  options: { wrapper?: ComponentType<{ children: ReactNode }>; fallback?: ReactNode } = {},
): RenderLog<T> => {
  const values: T[] = []
  const waiters = new Set<() => void>()
  const Probe = (): null => {
    const value = useValue()
    useLayoutEffect(() => {
      values.push(value)
      for (const waiter of [...waiters]) waiter()
    })
    return null
  }
  const tree = (): ReactNode => {
    const probe = createElement(Probe)
    return options.fallback === undefined
      ? probe
      : createElement(Suspense, { fallback: options.fallback }, probe)
  }
  const result = render(tree(), options.wrapper === undefined ? {} : { wrapper: options.wrapper })
  const latest = (): T => {
    if (values.length === 0) throw new Error('nothing committed yet')
    return values[values.length - 1] as T
  }
  const until = (check: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> =>
    new Promise((resolve, reject) => {
      const attempt = (): void => {
        if (values.length === 0 || !check(latest())) return
        waiters.delete(attempt)
        clearTimeout(timer)
        resolve(latest())
      }
      const timer = setTimeout(() => {
        waiters.delete(attempt)
        reject(new Error(`${what}: not rendered within ${timeoutMs} ms`))
      }, timeoutMs)
      waiters.add(attempt)
      attempt()
    })
  return { values, latest, until, rerender: () => result.rerender(tree()), result }
}
