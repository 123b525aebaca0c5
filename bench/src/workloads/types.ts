/** The shapes shared by workloads, the runner and the report. */
import type { Sizes, WorkloadId } from '../options.js'

/** One measured value. */
export type Value = number | boolean | string | null
/** The values one system produced in one run of a workload, by metric key. */
export type Values = Readonly<Record<string, Value>>
/** One system's outcome in one run: its values, or why it failed. */
export type Cell =
  { readonly ok: true; readonly values: Values } | { readonly ok: false; readonly error: string }
/** Every run of a workload: run index → column id → cell. */
export type RunTable = ReadonlyArray<Readonly<Record<string, Cell>>>

/** A column of a workload's table (a system, or a variant such as "sync: false"). */
export interface Column {
  readonly id: string
  readonly label: string
  /** Weft's own columns; targets and Weft/peer ratios are about these. */
  readonly weft: boolean
}

/** A row of a workload's table. */
export interface Metric {
  readonly key: string
  readonly label: string
  /** Shown after the number (ms, MiB, %, /s …); empty for counts and yes/no. */
  readonly unit: string
  readonly digits?: number
}

/** A target of the issue, checked against one Weft column. */
export interface TargetRow {
  readonly column: string
  readonly target: string
  readonly measured: string
  /** `null` when it cannot be judged (no data, or not applicable). */
  readonly met: boolean | null
}

/** How a workload is reported: what it measures, its rows, ratios and targets. */
export interface WorkloadSpec {
  readonly id: WorkloadId
  readonly title: string
  /** What is measured and how, for the report (Markdown). */
  method(sizes: Sizes): string
  readonly metrics: readonly Metric[]
  /** Metrics for which the Weft/peer ratio is computed per run (peers present only). */
  readonly ratios: readonly string[]
  /**
   * For a workload comparing Weft with itself: the column the others are divided by, per run,
   * for each metric of `ratios` (instead of Weft/peer).
   */
  readonly baseline?: string
  evaluate(runs: RunTable, columns: readonly Column[], context: EvaluateContext): TargetRow[]
}

/** What a workload's targets may consult besides its own runs. */
export interface EvaluateContext {
  readonly sizes: Sizes
  /** Another workload's runs from the same invocation (workload 2 reads the floor of 1). */
  runsOf(id: WorkloadId): RunTable | undefined
}

/** What a step gets for one run of one column. */
export interface StepContext {
  readonly sizes: Sizes
  readonly runIndex: number
  /** A fresh temporary directory for this step's data (removed afterwards by the runner). */
  readonly tmpDir: string
  log(message: string): void
}

/** A unit of work that produces the values of one or more workloads for one column. */
export interface Step {
  readonly ids: readonly WorkloadId[]
  /** At most this many runs, whatever `--runs` says (a step of minutes runs once). */
  readonly maxRuns?: number
  columns(peers: boolean): Column[]
  run(ctx: StepContext, column: string): Promise<Partial<Record<WorkloadId, Values>>>
}
