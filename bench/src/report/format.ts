/** Formatting of table cells: "median (min–max)" for numbers, counts for yes/no, text as is, failures. */
import { spread } from '../stats.js'
import type { Cell, Metric } from '../workloads/types.js'

/** A number with thousands separators and `digits` decimals. */
export const formatNumber = (value: number, digits = 0): string =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', {
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      })
    : '—'

/** Shortens an error to its first line, for a table cell. */
export const shortError = (error: string, maxChars = 80): string => {
  const line = error.split('\n')[0] ?? error
  return line.length > maxChars ? `${line.slice(0, maxChars - 1)}…` : line
}

/** One table cell: the metric over the runs of one column (the unit is in the row label). */
export const formatCell = (cells: ReadonlyArray<Cell | undefined>, metric: Metric): string => {
  const present = cells.filter((cell): cell is Cell => cell !== undefined)
  if (present.length === 0) return ''
  const ok = present.filter((cell) => cell.ok)
  const failed = present.length - ok.length
  if (ok.length === 0) return 'failed'
  const values = ok.map((cell) => cell.values[metric.key])
  const suffix = failed > 0 ? ` (${failed} failed)` : ''
  if (values.every((value) => typeof value === 'boolean')) {
    const yes = values.filter((value) => value === true).length
    if (yes === values.length)
      return `yes${values.length > 1 ? ` (${yes}/${values.length})` : ''}${suffix}`
    if (yes === 0) return `no${values.length > 1 ? ` (0/${values.length})` : ''}${suffix}`
    return `${yes}/${values.length} yes${suffix}`
  }
  // Text (a series, a note) is shown as it is, one run's after another's.
  if (values.every((value) => typeof value === 'string')) return `${values.join('; ')}${suffix}`
  const numbers = values.map((value) => (typeof value === 'number' ? value : Number.NaN))
  const stats = spread(numbers)
  if (stats === null) return `—${suffix}`
  const mid = formatNumber(stats.median, metric.digits)
  // One run, or every run the same: the value alone.
  if (stats.count === 1 || stats.min === stats.max) return `${mid}${suffix}`
  const range = `${formatNumber(stats.min, metric.digits)}–${formatNumber(stats.max, metric.digits)}`
  return `${mid} (${range})${suffix}`
}

/** A Markdown table from a header row and body rows (pipes in cells escaped). */
export const markdownTable = (
  header: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
): string => {
  const escape = (text: string): string => text.replaceAll('|', '\\|')
  const line = (cells: readonly string[]): string => `| ${cells.map(escape).join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}
