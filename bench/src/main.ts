/** `pnpm bench`: runs Weft's benchmark suite against its peers and writes the report. */
import { basename, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { profileAgentsInto } from './agents/agent.js'
import { nowMs } from './clock.js'
import { compareWorkloadIds, parseBenchArgs, WORKLOAD_IDS } from './options.js'
import { describeMachine, describeVersions, describeWeftCommit } from './report/machine.js'
import { workloadSection } from './report/markdown.js'
import type { BenchResults, WorkloadResults } from './report/results.js'
import { judgeTargets, readResults, writeReport } from './report/write-report.js'
import { runWorkloads } from './runner.js'
import { profileRelayInto } from './servers/weft-relay.js'

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url))
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '')

const parsed = parseBenchArgs(process.argv.slice(2), REPO_ROOT)
if (parsed.kind !== 'run') {
  ;(parsed.kind === 'help' ? console.log : console.error)(parsed.text)
  process.exit(parsed.kind === 'help' ? 0 : 2)
}
const options = parsed.options
if (options.profileAgentsDir !== null) profileAgentsInto(options.profileAgentsDir)
if (options.profileRelayDir !== null) profileRelayInto(options.profileRelayDir)
if (options.fromJson !== null) {
  const results = await readResults(options.fromJson)
  judgeTargets(results)
  const quick = results.meta.mode === 'quick'
  const paths = await writeReport(
    results,
    dirname(options.fromJson),
    quick ? 'quick.md' : 'BENCHMARKS.md',
    basename(options.fromJson),
  )
  console.log(`[bench] rewrote ${paths.md} from ${paths.json}`)
  process.exit(0)
}
// Workload 2's floor target compares with workload 1 of the same invocation.
const wanted = options.only.includes('2') ? ['1', ...options.only] : options.only
const selected = { ...options, only: WORKLOAD_IDS.filter((id) => wanted.includes(id)) }
const mdName = options.quick ? 'quick.md' : 'BENCHMARKS.md'
const jsonName = options.quick ? 'quick.json' : 'benchmarks.json'

const log = (message: string): void => console.log(`[bench] ${message}`)
const started = nowMs()
const meta = {
  date: new Date().toISOString(),
  command: options.command,
  mode: options.quick ? ('quick' as const) : ('full' as const),
  peers: options.peers,
  machine: describeMachine(),
  versions: describeVersions(BENCH_DIR, REPO_ROOT),
  weftCommit: describeWeftCommit(REPO_ROOT),
}
const collected: WorkloadResults[] = []
const results = (): BenchResults => ({
  meta: { ...meta, durationMs: nowMs() - started },
  sizes: selected.sizes,
  workloads: [...collected].sort((a, b) => compareWorkloadIds(a.id, b.id)),
})

log(`${meta.mode} run of workloads ${selected.only.join(', ')}, ${selected.sizes.runs} run(s) each`)
await runWorkloads(selected, log, async (finished) => {
  for (const workload of finished) collected.push(workload)
  const current = results()
  judgeTargets(current)
  for (const workload of finished)
    console.log(`\n${workloadSection(workload, { method: false })}\n`)
  // Written after every step, so whatever was measured survives a later crash.
  await writeReport(current, options.outDir, mdName, jsonName)
})
// The lead may commit while a long run goes on: say so if the measured code changed under it.
const commitAtEnd = describeWeftCommit(REPO_ROOT)
if (commitAtEnd !== meta.weftCommit) {
  meta.weftCommit = `${meta.weftCommit} at the start, ${commitAtEnd} at the end (changed during the run)`
}
const final = results()
judgeTargets(final)
const paths = await writeReport(final, options.outDir, mdName, jsonName)
log(`done in ${((nowMs() - started) / 60_000).toFixed(1)} min; wrote ${paths.md} and ${paths.json}`)
process.exit(0)
