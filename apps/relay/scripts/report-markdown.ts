/** Markdown pieces of docs/RELIABILITY.md: tables, totals, percentiles and seed lists. */
/** The sum of `value` over `items`. */
export const sum = <T>(items: readonly T[], value: (item: T) => number): number =>
  items.reduce((total, item) => total + value(item), 0)

/** The `p`th percentile (nearest rank) of `values`; 0 for none. */
export const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

/** Seeds as `--seeds` takes them: `a..b` for a run of consecutive seeds, else `a,b,c`. */
export const seedList = (seeds: readonly number[]): string => {
  const consecutive = seeds.every(
    (seed, index) => index === 0 || seed === (seeds[0] as number) + index,
  )
  return consecutive && seeds.length > 2
    ? `${seeds[0]}..${seeds[seeds.length - 1]}`
    : seeds.join(',')
}

/** A Markdown table. */
export const table = (
  header: readonly string[],
  rows: ReadonlyArray<readonly (string | number)[]>,
): string =>
  [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n')

/** A figure that must be 0, in bold. */
export const bold = (value: number): string => `**${value}**`
