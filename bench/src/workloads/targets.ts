/** Helpers for judging targets: per-run values and ratios, medians, and their wording. */
import { median } from '../stats.js'
import type { Column, RunTable, TargetRow } from './types.js'

/** The number `key` of column `column` in run `run`, or NaN if missing or failed. */
export const valueAt = (runs: RunTable, run: number, column: string, key: string): number => {
  const cell = runs[run]?.[column]
  if (cell === undefined || !cell.ok) return Number.NaN
  const value = cell.values[key]
  return typeof value === 'number' ? value : Number.NaN
}

/** Every run's boolean `key` of `column` (failed runs count as `undefined`). */
export const flagsOf = (runs: RunTable, column: string, key: string): Array<boolean | undefined> =>
  runs.map((row) => {
    const cell = row[column]
    if (cell === undefined || !cell.ok) return undefined
    const value = cell.values[key]
    return typeof value === 'boolean' ? value : undefined
  })

/** Per run `combine(weft, peer)` where both are finite; the finite results. */
export const perRun = (
  runs: RunTable,
  key: string,
  a: string,
  b: string,
  combine: (a: number, b: number) => number,
): number[] =>
  runs
    .map((_, run) => combine(valueAt(runs, run, a, key), valueAt(runs, run, b, key)))
    .filter((value) => Number.isFinite(value))

/** Per run, the best peer's `key` (`lower` or `higher` is better); NaN where no peer succeeded. */
export const bestPeerPerRun = (
  runs: RunTable,
  columns: readonly Column[],
  key: string,
  better: 'lower' | 'higher',
): number[] =>
  runs.map((_, run) => {
    const values = columns
      .filter((column) => !column.weft)
      .map((column) => valueAt(runs, run, column.id, key))
      .filter((value) => Number.isFinite(value))
    if (values.length === 0) return Number.NaN
    return better === 'lower' ? Math.min(...values) : Math.max(...values)
  })

/** A target row from per-run ratios: met when the median passes `pass`. */
export const ratioTarget = (
  column: Column,
  target: string,
  ratios: readonly number[],
  pass: (median: number) => boolean,
  unit = '×',
): TargetRow => {
  const finite = ratios.filter((value) => Number.isFinite(value))
  if (finite.length === 0) {
    return { column: column.label, target, measured: 'no data', met: null }
  }
  const mid = median(finite)
  return {
    column: column.label,
    target,
    measured: `${mid.toFixed(2)}${unit} (median of ${finite.length} run${finite.length === 1 ? '' : 's'})`,
    met: pass(mid),
  }
}

/** A target row that holds only if `holds` is true in every run (and there was at least one). */
export const everyRunTarget = (
  column: Column,
  target: string,
  outcomes: ReadonlyArray<boolean | undefined>,
  describe: string,
): TargetRow => {
  const known = outcomes.filter((value): value is boolean => value !== undefined)
  if (known.length === 0) return { column: column.label, target, measured: 'no data', met: null }
  const passed = known.filter(Boolean).length
  const failed = outcomes.length - known.length
  return {
    column: column.label,
    target,
    measured: `${passed}/${outcomes.length} runs ${describe}${failed > 0 ? ` (${failed} failed)` : ''}`,
    met: passed === outcomes.length,
  }
}

/** A row for a target that needs peers when they were not run. */
export const needsPeers = (column: Column, target: string): TargetRow => ({
  column: column.label,
  target,
  measured: 'peers not run',
  met: null,
})
