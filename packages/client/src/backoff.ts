/** Reconnection delays: exponential backoff with full jitter, and a longer wait when rate limited. */
import { fullJitterDelayMs } from '@weft/protocol'

/** Backoff settings, in milliseconds. */
export interface BackoffOptions {
  /** Upper bound of the first delay. Default 250. */
  initialMs: number
  /** Cap of the exponential bound. Default 30,000. */
  maxMs: number
  /** Minimum wait after a `slow-retry` error (rate limited). Default 30,000. */
  slowRetryMs: number
  /** A connection that stays up this long resets the attempt counter. Default 10,000. */
  stableMs: number
}

/** Default backoff settings. */
export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 250,
  maxMs: 30_000,
  slowRetryMs: 30_000,
  stableMs: 10_000,
}

/**
 * Delay before reconnect attempt `attempt` (0-based): uniformly random in
 * `[0, min(maxMs, initialMs · 2^attempt))` ("full jitter"), or `slowRetryMs` plus such a delay
 * when `slow` is set. `random` returns values in `[0, 1)`.
 */
export const backoffDelayMs = (
  options: BackoffOptions,
  attempt: number,
  random: () => number,
  slow = false,
): number => {
  const jittered = fullJitterDelayMs(options, attempt, random)
  return slow ? options.slowRetryMs + jittered : jittered
}
