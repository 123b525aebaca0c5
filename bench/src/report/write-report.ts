/** Judges the targets and writes the report (`.md`, Prettier-formatted) and the raw results (`.json`). */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as prettier from 'prettier'
import type { WorkloadId } from '../options.js'
import { baselineOf, SPECS } from '../workloads/registry.js'
import { buildReport } from './markdown.js'
import type { BenchResults, WorkloadResults } from './results.js'

/** Fills in each workload's targets from its runs (and other workloads' runs where needed). */
export const judgeTargets = (results: BenchResults): void => {
  const byId = new Map<WorkloadId, WorkloadResults>(results.workloads.map((w) => [w.id, w]))
  for (const workload of results.workloads) {
    workload.targets = SPECS[workload.id].evaluate(workload.runs, workload.columns, {
      sizes: results.sizes,
      runsOf: (id) => byId.get(id)?.runs,
    })
  }
}

/**
 * Results read back from a JSON file, with each workload's wording, rows and ratios taken from
 * the current specs (so a report can be rewritten after a label changes, without measuring).
 */
export const readResults = async (file: string): Promise<BenchResults> => {
  const results = JSON.parse(await readFile(file, 'utf8')) as BenchResults
  return {
    ...results,
    workloads: results.workloads.map((workload) => {
      const spec = SPECS[workload.id]
      const { baseline: _old, ...rest } = workload
      return {
        ...rest,
        ...baselineOf(workload.id),
        title: spec.title,
        method: spec.method(results.sizes),
        metrics: spec.metrics,
        ratios: spec.ratios,
      }
    }),
  }
}

const format = async (text: string, filepath: string): Promise<string> => {
  const config = (await prettier.resolveConfig(filepath)) ?? {}
  return prettier.format(text, { ...config, filepath })
}

/** Each report file as it was before this process first wrote it. */
const previousReports = new Map<string, string>()

/** Writes `<dir>/<mdName>` and `<dir>/<jsonName>`; returns their paths. */
export const writeReport = async (
  results: BenchResults,
  dir: string,
  mdName: string,
  jsonName: string,
): Promise<{ md: string; json: string }> => {
  await mkdir(dir, { recursive: true })
  const md = join(dir, mdName)
  const json = join(dir, jsonName)
  // The report is written after every workload: the paragraphs to keep are those of the file as
  // it was before this run's first write, or the workloads not run yet would lose theirs.
  let previous = previousReports.get(md)
  if (previous === undefined) {
    previous = await readFile(md, 'utf8').catch(() => '')
    previousReports.set(md, previous)
  }
  await writeFile(md, await format(buildReport(results, previous), md))
  await writeFile(json, await format(JSON.stringify(results), json))
  return { md, json }
}
