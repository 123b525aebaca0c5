/** One clock for the harness and every agent process: CLOCK_MONOTONIC, in milliseconds. */

/**
 * Milliseconds on the system-wide monotonic clock. `process.hrtime` reads CLOCK_MONOTONIC on
 * Linux, so values taken in different processes on this machine can be subtracted.
 */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6

/** Resolves after `ms` milliseconds (for pacing and settling, never for waiting on events). */
export const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

/** Resolves on the next turn of the event loop, after pending I/O. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Rejects with `message` if `promise` has not settled after `timeoutMs`. */
export const deadline = <T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> =>
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
        reject(error instanceof Error ? error : new Error(String(error)))
      },
    )
  })
