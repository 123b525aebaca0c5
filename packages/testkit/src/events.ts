/** Awaiting events in tests: with a deadline, never by polling with sleeps. */

interface Observable<Args extends unknown[]> {
  on(name: string, listener: (...args: Args) => void): unknown
  off(name: string, listener: (...args: Args) => void): unknown
}

/**
 * Resolves with the arguments of the first `name` event for which `accept` returns true (any event
 * by default); rejects after `timeoutMs` with a message naming the event.
 */
export const nextEvent = <Args extends unknown[]>(
  source: Observable<Args>,
  name: string,
  accept: (...args: Args) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<Args> =>
  new Promise((resolve, reject) => {
    const listener = (...args: Args): void => {
      if (!accept(...args)) return
      clearTimeout(timer)
      source.off(name, listener)
      resolve(args)
    }
    const timer = setTimeout(() => {
      source.off(name, listener)
      reject(new Error(`no matching "${name}" event within ${timeoutMs} ms`))
    }, timeoutMs)
    source.on(name, listener)
  })

/**
 * Resolves once `check()` is true, re-checking whenever `source` emits `name`; rejects after
 * `timeoutMs` with `describe()` in the message.
 */
export const until = async <Args extends unknown[]>(
  source: Observable<Args>,
  name: string,
  check: () => boolean,
  describe: () => string = () => 'condition',
  timeoutMs = 10_000,
): Promise<void> => {
  if (check()) return
  try {
    await nextEvent(source, name, () => check(), timeoutMs)
  } catch {
    throw new Error(`${describe()} not reached within ${timeoutMs} ms`)
  }
}

/** Rejects with `message` if `promise` does not settle within `timeoutMs`. */
export const withTimeout = <T>(
  promise: Promise<T>,
  timeoutMs: number,
  message: string,
): Promise<T> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${message} (after ${timeoutMs} ms)`)),
      timeoutMs,
    )
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
