/** Runs the selected workloads: every run of every column, failures recorded, never fatal. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nowMs } from './clock.js'
import { compareWorkloadIds, type BenchOptions, type WorkloadId } from './options.js'
import type { WorkloadResults } from './report/results.js'
import { SYSTEMS } from './systems.js'
import { baselineOf, SPECS, STEPS } from './workloads/registry.js'
import type { Cell, Column, Step } from './workloads/types.js'

/** Called as each step finishes, with the workloads it completed (for printing and saving). */
export type StepDone = (workloads: readonly WorkloadResults[]) => Promise<void>

const rotate = <T>(items: readonly T[], by: number): T[] =>
  items.map((_, index) => items[(index + by) % items.length]!)

const runColumn = async (
  step: Step,
  options: BenchOptions,
  runIndex: number,
  column: Column,
  log: (message: string) => void,
): Promise<Partial<Record<WorkloadId, Cell>>> => {
  const tmpDir = await mkdtemp(join(tmpdir(), 'weft-bench-'))
  const ctx = { sizes: options.sizes, runIndex, tmpDir, log }
  try {
    const values = await step.run(ctx, column.id)
    return Object.fromEntries(
      step.ids.map((id) => {
        const cell: Cell =
          values[id] === undefined
            ? { ok: false, error: 'no values' }
            : { ok: true, values: values[id] }
        return [id, cell]
      }),
    )
  } catch (error) {
    const message = (error as Error).stack ?? String(error)
    log(`  failed: ${message.split('\n')[0]}`)
    return Object.fromEntries(step.ids.map((id) => [id, { ok: false, error: message }]))
  } finally {
    await rm(tmpDir, { recursive: true, force: true })
  }
}

/**
 * Runs every step that produces a selected workload, `sizes.runs` times (at most its `maxRuns`).
 * Within a run the columns take turns (rotated each run so no system always goes first). Returns
 * the workloads in id order, without their targets (the caller judges them).
 */
export const runWorkloads = async (
  options: BenchOptions,
  log: (message: string) => void,
  onStepDone: StepDone,
): Promise<WorkloadResults[]> => {
  const done: WorkloadResults[] = []
  for (const step of STEPS) {
    const ids = step.ids.filter((id) => options.only.includes(id))
    if (ids.length === 0) continue
    const columns = step
      .columns(options.peers)
      .filter(
        (column) =>
          options.systems === null ||
          !(column.id in SYSTEMS) ||
          options.systems.includes(column.id),
      )
    if (columns.length === 0) continue
    const workloads = ids.map((id): WorkloadResults => ({
      id,
      title: SPECS[id].title,
      method: SPECS[id].method(options.sizes),
      columns,
      metrics: SPECS[id].metrics,
      ratios: SPECS[id].ratios,
      ...baselineOf(id),
      runs: [],
      targets: [],
    }))
    const runs = Math.min(options.sizes.runs, step.maxRuns ?? Number.POSITIVE_INFINITY)
    for (let run = 0; run < runs; run++) {
      for (const workload of workloads) workload.runs.push({})
      for (const column of rotate(columns, run)) {
        const started = nowMs()
        const cells = await runColumn(step, options, run, column, log)
        const seconds = ((nowMs() - started) / 1000).toFixed(1)
        log(`workload ${ids.join('+')}, run ${run + 1}/${runs}: ${column.label} (${seconds} s)`)
        for (const workload of workloads) workload.runs[run]![column.id] = cells[workload.id]!
      }
    }
    for (const workload of workloads) done.push(workload)
    await onStepDone(workloads)
  }
  return done.sort((a, b) => compareWorkloadIds(a.id, b.id))
}
