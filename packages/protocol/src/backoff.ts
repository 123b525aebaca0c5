/** Retry delays shared by every Weft retry loop: exponential backoff with full jitter. */

/**
 * The delay before retry `attempt` (0 for the first): uniform in
 * `[0, min(maxMs, initialMs · 2^attempt))` — "full jitter", so that many clients failing at once
 * do not retry in step. `random` returns values in `[0, 1)`.
 */
export const fullJitterDelayMs = (
  bounds: { readonly initialMs: number; readonly maxMs: number },
  attempt: number,
  random: () => number,
): number =>
  Math.floor(random() * Math.min(bounds.maxMs, bounds.initialMs * 2 ** Math.min(attempt, 30)))
