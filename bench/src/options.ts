/** The bench command line (`pnpm bench [--quick] [--only 2,5] [--runs N] …`) and the sizes of each mode. */
import { parseArgs } from 'node:util'
import { SYSTEMS } from './systems.js'

const SYSTEM_IDS: readonly string[] = Object.keys(SYSTEMS)

/**
 * Workload ids in report order: 1 floor … 8 connections, 5b (fan-out at a fifth of 5's rate)
 * beside 5, then 9 presence, 10 churn, 11 fan-out across relays, 12 the trace through
 * PostgreSQL, 13 the trace into a record of a document with a schema, 14 a large document and 15
 * an app's return from the background.
 */
export const WORKLOAD_IDS = [
  '1',
  '2',
  '3',
  '4',
  '5',
  '5b',
  '6',
  '7',
  '8',
  '9',
  '10',
  '11',
  '12',
  '13',
  '14',
  '15',
] as const
/** One workload id. */
export type WorkloadId = (typeof WORKLOAD_IDS)[number]

/** Orders workload ids as the report lists them (`5b` after `5`, `10` after `9`, …). */
export const compareWorkloadIds = (a: string, b: string): number =>
  (WORKLOAD_IDS as readonly string[]).indexOf(a) - (WORKLOAD_IDS as readonly string[]).indexOf(b)

/** How big each workload is. */
export interface Sizes {
  /** Patches of `automerge-paper` replayed (workloads 1–4, 7, 12, 13, 15); the trace has 259,778. */
  readonly tracePatches: number
  /** Fan-out (5, 5b, 11): clients on one document, edits per second each, seconds of editing. */
  readonly fanoutClients: number
  readonly fanoutRatePerSec: number
  /** Fan-out at the slower rate (5b): edits per second each. */
  readonly fanoutSlowRatePerSec: number
  readonly fanoutDurationMs: number
  /** Fan-out client processes (each hosts a share of the clients). */
  readonly fanoutAgents: number
  /** Many documents (6): documents, one client each. */
  readonly manyDocs: number
  /** Idle connections (8) and how long the lag probe runs while they heartbeat. */
  readonly idleConnections: number
  readonly idleWindowMs: number
  /** Many documents (6): how long after the unload grace the after-leave RSS is read. */
  readonly unloadSettleMs: number
  /** Presence (9): clients, documents they are spread over, agent processes, window. */
  readonly presenceClients: number
  readonly presenceDocs: number
  readonly presenceAgents: number
  readonly presenceWindowMs: number
  /** Churn (10): documents opened per second, for how long, from how many agent processes. */
  readonly churnDocsPerSec: number
  readonly churnDurationMs: number
  readonly churnAgents: number
  /** Churn (10): the relay's unload grace; at its default (30 s) no flag is passed. */
  readonly churnUnloadGraceMs: number
  /** Large document (14): characters of text-heavy content written, then synced. */
  readonly bigDocChars: number
  /** Large document (14): fresh clients joining it at once. */
  readonly stormJoiners: number
  /** App lifecycle (15): documents open in the app's client. */
  readonly lifecycleDocs: number
  /** App lifecycle (15): background → foreground cycles per link. */
  readonly lifecycleCycles: number
  /** Runs of each workload. */
  readonly runs: number
}

/** The relay's own default `--unload-grace-ms` (packages/server's `unloadGraceMs`). */
export const RELAY_UNLOAD_GRACE_MS = 30_000

/** Sizes of the published run. */
export const FULL_SIZES: Sizes = {
  tracePatches: 259_778,
  fanoutClients: 50,
  fanoutRatePerSec: 20,
  fanoutSlowRatePerSec: 4,
  fanoutDurationMs: 10_000,
  fanoutAgents: 4,
  manyDocs: 2000,
  idleConnections: 5000,
  idleWindowMs: 10_000,
  unloadSettleMs: 10_000,
  presenceClients: 1000,
  presenceDocs: 10,
  presenceAgents: 4,
  presenceWindowMs: 20_000,
  churnDocsPerSec: 40,
  churnDurationMs: 180_000,
  churnAgents: 2,
  churnUnloadGraceMs: RELAY_UNLOAD_GRACE_MS,
  bigDocChars: 20_000_000,
  stormJoiners: 150,
  lifecycleDocs: 10,
  lifecycleCycles: 40,
  runs: 3,
}

/** How long churn (10) runs with `--long`, in any mode. */
export const LONG_CHURN_MS = 600_000

/** Sizes of `--quick` (CI smoke and a quick look). */
export const QUICK_SIZES: Sizes = {
  tracePatches: 2000,
  fanoutClients: 5,
  fanoutRatePerSec: 20,
  fanoutSlowRatePerSec: 4,
  fanoutDurationMs: 1000,
  fanoutAgents: 2,
  manyDocs: 50,
  idleConnections: 200,
  idleWindowMs: 1000,
  unloadSettleMs: 1000,
  presenceClients: 40,
  presenceDocs: 2,
  presenceAgents: 2,
  presenceWindowMs: 3000,
  churnDocsPerSec: 10,
  churnDurationMs: 6000,
  churnAgents: 1,
  churnUnloadGraceMs: 2000,
  bigDocChars: 500_000,
  stormJoiners: 10,
  lifecycleDocs: 10,
  lifecycleCycles: 5,
  runs: 1,
}

/** The parsed command line. */
export interface BenchOptions {
  readonly quick: boolean
  readonly only: readonly WorkloadId[]
  readonly sizes: Sizes
  /** Also run Hocuspocus and y-websocket-server (default true; `--no-peers` turns them off). */
  readonly peers: boolean
  /** Only these systems (ids of `SYSTEMS`), or every one; other columns (floor, sync) stay. */
  readonly systems: readonly string[] | null
  /** Where the report (`.md`) and raw results (`.json`) go, and their base name. */
  readonly outDir: string
  readonly outName: string
  /** Write a V8 CPU profile of every agent (client load process) into this directory. */
  readonly profileAgentsDir: string | null
  /** Write a V8 CPU profile of every Weft relay process into this directory. */
  readonly profileRelayDir: string | null
  /** Rewrite the report from this results file instead of measuring (`--from-json`). */
  readonly fromJson: string | null
  /** The command as typed, for the report. */
  readonly command: string
}

const USAGE = `Usage: pnpm bench [options]

  --quick                 small sizes, one run; writes bench/results/quick.{md,json}
  --only <ids>            comma-separated workload ids (1-8, 5b, 9, 10, 11, 12, 13, 14, 15), e.g. --only 2,3
  --runs <n>              runs per workload (default 3, or 1 with --quick)
  --no-peers              Weft only: skip Hocuspocus and y-websocket-server
  --systems <ids>         only these systems: weft-client, weft-yws, hocuspocus, y-websocket-server
  --out-dir <dir>         where to write the report (default docs/, or bench/results/ with --quick)
  --trace-patches <n>     replay only the first n patches of the trace
  --long                  workload 10 (churn) runs 10 min instead of 3 (or a few seconds with --quick)
  --from-json <file>      measure nothing: rewrite the report next to <file> from it
  --profile-agents <dir>  write a CPU profile of every client agent into <dir>
  --profile-relay <dir>   write a CPU profile of every Weft relay process into <dir>
  -h, --help              this text`

/** Parses `argv` (without node and the script); `help` when asked for, `error` for bad input. */
export const parseBenchArgs = (
  argv: readonly string[],
  repoRoot: string,
): { kind: 'run'; options: BenchOptions } | { kind: 'help' | 'error'; text: string } => {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv.filter((arg) => arg !== '--'),
      options: {
        quick: { type: 'boolean', default: false },
        long: { type: 'boolean', default: false },
        only: { type: 'string' },
        runs: { type: 'string' },
        'no-peers': { type: 'boolean', default: false },
        systems: { type: 'string' },
        'out-dir': { type: 'string' },
        'trace-patches': { type: 'string' },
        'from-json': { type: 'string' },
        'profile-agents': { type: 'string' },
        'profile-relay': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }))
  } catch (error) {
    return { kind: 'error', text: `${(error as Error).message}\n\n${USAGE}` }
  }
  if (values.help === true) return { kind: 'help', text: USAGE }
  const only = (values.only ?? WORKLOAD_IDS.join(',')).split(',').map((id) => id.trim())
  const unknown = only.filter((id) => !(WORKLOAD_IDS as readonly string[]).includes(id))
  if (unknown.length > 0) return { kind: 'error', text: `--only: unknown workload ${unknown[0]}` }
  const base = values.quick === true ? QUICK_SIZES : FULL_SIZES
  const runs = positiveInt(values.runs, base.runs)
  const tracePatches = positiveInt(values['trace-patches'], base.tracePatches)
  if (runs === null) return { kind: 'error', text: '--runs: expected a positive integer' }
  if (tracePatches === null) {
    return { kind: 'error', text: '--trace-patches: expected a positive integer' }
  }
  const quick = values.quick === true
  const systems = values.systems?.split(',').map((id) => id.trim()) ?? null
  const badSystem = systems?.find((id) => !SYSTEM_IDS.includes(id))
  if (badSystem !== undefined)
    return { kind: 'error', text: `--systems: unknown system ${badSystem}` }
  return {
    kind: 'run',
    options: {
      quick,
      only: WORKLOAD_IDS.filter((id) => only.includes(id)),
      sizes: {
        ...base,
        runs,
        tracePatches: Math.min(tracePatches, FULL_SIZES.tracePatches),
        ...(values.long === true ? { churnDurationMs: LONG_CHURN_MS } : {}),
      },
      peers: values['no-peers'] !== true,
      systems,
      outDir: values['out-dir'] ?? `${repoRoot}/${quick ? 'bench/results' : 'docs'}`,
      outName: quick ? 'quick' : 'BENCHMARKS',
      fromJson: values['from-json'] ?? null,
      profileAgentsDir: values['profile-agents'] ?? null,
      profileRelayDir: values['profile-relay'] ?? null,
      command: ['pnpm bench', ...argv.filter((arg) => arg !== '--')].join(' '),
    },
  }
}

const positiveInt = (raw: string | undefined, fallback: number): number | null => {
  if (raw === undefined) return fallback
  const value = Number(raw)
  return Number.isInteger(value) && value > 0 ? value : null
}
