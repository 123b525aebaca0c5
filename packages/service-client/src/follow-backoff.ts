/** The feed follower's waits after a failed read: exponential backoff with full jitter. */
import { fullJitterDelayMs } from '@weft/protocol'

/** Backoff settings of the follower, in milliseconds. */
export interface FollowBackoff {
  /** Upper bound of the first delay. Default 500. */
  readonly initialMs: number
  /** Cap of the exponential bound. Default 30,000. */
  readonly maxMs: number
  /** Added to the delay after `RATE_LIMITED` (429). Default 30,000. */
  readonly slowRetryMs: number
}

/** Default {@link FollowBackoff}. */
export const DEFAULT_FOLLOW_BACKOFF: FollowBackoff = {
  initialMs: 500,
  maxMs: 30_000,
  slowRetryMs: 30_000,
}

/**
 * The wait before retry `attempt` (1 for the first retry after a success): uniform in
 * `[0, min(maxMs, initialMs · 2^(attempt-1)))` ("full jitter", so many followers failing at
 * once do not retry in step), plus `slowRetryMs` when `slow`. `random` returns values in `[0, 1)`.
 */
export const followDelayMs = (
  backoff: FollowBackoff,
  attempt: number,
  random: () => number,
  slow = false,
): number => {
  const jittered = fullJitterDelayMs(backoff, attempt - 1, random)
  return slow ? backoff.slowRetryMs + jittered : jittered
}
