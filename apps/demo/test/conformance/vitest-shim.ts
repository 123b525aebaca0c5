/**
 * A stand-in for `vitest` inside the browser page: `describe`, `it`, `afterEach` collect the
 * conformance suite's cases, and `expect` is chai with Vitest's own matchers (`@vitest/expect`),
 * so the suite runs unchanged against IndexedDB.
 */
import { JestAsymmetricMatchers, JestChaiExpect, JestExtend } from '@vitest/expect'
import * as chai from 'chai'

chai.use(JestExtend)
chai.use(JestChaiExpect)
chai.use(JestAsymmetricMatchers)

interface Case {
  readonly name: string
  readonly run: () => unknown
  readonly afterEach: ReadonlyArray<() => unknown>
}

const cases: Case[] = []
const names: string[] = []
let hooks: Array<() => unknown> = []

export const describe = (name: string, body: () => void): void => {
  names.push(name)
  const outer = hooks
  hooks = [...outer]
  body()
  hooks = outer
  names.pop()
}

export const it = (name: string, run: () => unknown): void => {
  cases.push({ name: [...names, name].join(' > '), run, afterEach: hooks })
}

export const afterEach = (hook: () => unknown): void => {
  hooks.push(hook)
}

export const expect = chai.expect as unknown as typeof import('vitest').expect

/** Runs every collected case in order; a failure is recorded with its message. */
export const runCases = async (): Promise<Array<{ name: string; error: string | null }>> => {
  const results: Array<{ name: string; error: string | null }> = []
  for (const each of cases) {
    let error: string | null = null
    try {
      await each.run()
    } catch (thrown) {
      error = String((thrown as Error)?.stack ?? thrown)
    }
    for (const hook of each.afterEach) await hook()
    results.push({ name: each.name, error })
  }
  return results
}
