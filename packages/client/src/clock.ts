/** Clock: where a client reads the time and sets its timers, injectable so tests can move time by hand. */

/**
 * The time source of a client's document handles. The default, {@link systemClock}, is the
 * platform's; a test passes one whose time it advances by hand, so timeouts fire without waiting.
 */
export interface Clock {
  /** Milliseconds on a monotonic clock, for durations such as latencies (`performance.now()`). */
  now(): number
  /** Milliseconds since the epoch, for timestamps such as `lastSavedAt` (`Date.now()`). */
  wallNow(): number
  /** Runs `fn` once, `ms` milliseconds from now; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown
  /** Cancels a timer set by {@link Clock.setTimeout}; a handle that already fired is ignored. */
  clearTimeout(handle: unknown): void
}

/** The platform's clock: `performance.now()`, `Date.now()` and the global timer functions. */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

const CLOCK_METHODS = ['now', 'wallNow', 'setTimeout', 'clearTimeout'] as const

/** True when `value` is an object with the four functions of a {@link Clock}. */
export const isClock = (value: unknown): value is Clock =>
  typeof value === 'object' &&
  value !== null &&
  CLOCK_METHODS.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
