/** Small statistics over run values: median, spread and percentiles. */

/** Median, minimum and maximum of a non-empty sample. */
export interface Spread {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly count: number
}

/** The value at quantile `q` (0..1) of `sorted` (ascending), by linear interpolation. */
export const quantileSorted = (sorted: ArrayLike<number>, q: number): number => {
  if (sorted.length === 0) return Number.NaN
  const position = (sorted.length - 1) * Math.min(1, Math.max(0, q))
  const lower = Math.floor(position)
  const upper = Math.ceil(position)
  const low = sorted[lower] as number
  const high = sorted[upper] as number
  return low + (high - low) * (position - lower)
}

/** The `q` quantile (0..1) of `values`; NaN for an empty sample. */
export const quantile = (values: readonly number[], q: number): number =>
  quantileSorted(
    [...values].sort((a, b) => a - b),
    q,
  )

/** The median of `values`; NaN for an empty sample. */
export const median = (values: readonly number[]): number => quantile(values, 0.5)

/** Median, min and max of the finite values in `values`, or `null` if there are none. */
export const spread = (values: readonly number[]): Spread | null => {
  const finite = values.filter((value) => Number.isFinite(value))
  if (finite.length === 0) return null
  return {
    median: median(finite),
    min: Math.min(...finite),
    max: Math.max(...finite),
    count: finite.length,
  }
}

/** p50, p95, p99 and max of a latency sample in ms (NaN when empty). */
export const latencySummary = (
  values: Float64Array | readonly number[],
): { p50: number; p95: number; p99: number; max: number } => {
  const sorted = Float64Array.from(values).sort()
  return {
    p50: quantileSorted(sorted, 0.5),
    p95: quantileSorted(sorted, 0.95),
    p99: quantileSorted(sorted, 0.99),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
  }
}
