/** The raw results of a bench invocation, as written to the JSON file next to the report. */
import type { Sizes, WorkloadId } from '../options.js'
import type { Cell, Column, Metric, TargetRow } from '../workloads/types.js'

/** Where and on what the benchmark ran. */
export interface Meta {
  readonly date: string
  readonly command: string
  readonly mode: 'full' | 'quick'
  readonly peers: boolean
  readonly machine: Readonly<Record<string, string>>
  /** Package name → installed version. */
  readonly versions: Readonly<Record<string, string>>
  readonly weftCommit: string
  readonly durationMs?: number
}

/** One workload: its definition as reported, every run's cells, and the judged targets. */
export interface WorkloadResults {
  readonly id: WorkloadId
  readonly title: string
  readonly method: string
  readonly columns: readonly Column[]
  readonly metrics: readonly Metric[]
  readonly ratios: readonly string[]
  /** The column the ratios divide by, when the workload compares Weft with itself. */
  readonly baseline?: string
  readonly runs: Array<Record<string, Cell>>
  targets: TargetRow[]
}

/** Everything one invocation produced. */
export interface BenchResults {
  readonly meta: Meta
  readonly sizes: Sizes
  readonly workloads: WorkloadResults[]
}
