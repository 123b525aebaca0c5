/**
 * Workloads 5 and 5b, fan-out: one document, many clients editing at a steady rate (20 and 4 edits
 * a second each); end-to-end latency.
 */
import type { Sizes, WorkloadId } from '../options.js'
import { SYSTEMS, type SystemId } from '../systems.js'
import { runFanout } from './fanout-session.js'
import { withResources } from './resources.js'
import { bestPeerPerRun, everyRunTarget, needsPeers, ratioTarget, valueAt } from './targets.js'
import { ALL_SYSTEMS, systemColumns } from './trace.js'
import type { Step, TargetRow, WorkloadSpec } from './types.js'

/** One fan-out workload: its id, title, and which rate of the sizes it edits at. */
interface FanoutVariant {
  readonly id: WorkloadId
  readonly title: string
  ratePerSec(sizes: Sizes): number
  /** What sets this variant apart, the method's first sentence (or empty). */
  lead(sizes: Sizes): string
}

const FAST: FanoutVariant = {
  id: '5',
  title: 'Fan-out',
  ratePerSec: (sizes) => sizes.fanoutRatePerSec,
  lead: () => '',
}

const SLOW: FanoutVariant = {
  id: '5b',
  title: 'Fan-out at 4 edits/s',
  ratePerSec: (sizes) => sizes.fanoutSlowRatePerSec,
  lead: (sizes) =>
    `Workload 5 at ${sizes.fanoutSlowRatePerSec} edits a second per client instead of ` +
    `${sizes.fanoutRatePerSec}, everything else the same. `,
}

const fanoutSpecOf = (variant: FanoutVariant): WorkloadSpec => ({
  id: variant.id,
  title: variant.title,
  method: (sizes) => {
    const rate = variant.ratePerSec(sizes)
    const updatesPerSec = sizes.fanoutClients * (sizes.fanoutClients - 1) * rate
    return (
      variant.lead(sizes) +
      `${sizes.fanoutClients} clients (each its own socket, spread over ${sizes.fanoutAgents} ` +
      'agent processes) on one document; each inserts a small fixed-width token ' +
      `(\`[client:seq]\`, at a random token boundary of a shared \`Y.Text\`) ` +
      `${rate} times a second for ${sizes.fanoutDurationMs / 1000} s, on a ` +
      'fixed schedule staggered across clients. Every client records when each other ' +
      "client's edit becomes visible in its document (times on the machine's monotonic clock, " +
      "shared by all processes; arrivals are read from each remote transaction's state vectors, " +
      'which costs next to nothing). *Seen by all* is the time from the edit until the last ' +
      'other client has it; *delivery* is one edit reaching one client. Stragglers are waited ' +
      'for up to 10 s after the last edit. CPU is over the editing and draining window, as a ' +
      "percentage of one core, and so is the relay's own event-loop delay (its `GET /stats`; " +
      'its figures include the 10 ms sampling interval). Every client applies every other ' +
      "client's updates (about " +
      `${updatesPerSec.toLocaleString('en-US')} Yjs updates a second in all, some 25 µs each), ` +
      'so on a small machine the clients can saturate it; *client-bound* marks runs where the ' +
      "agents used 75% or more of all cores, and their latencies then include the clients' " +
      'own queueing.'
    )
  },
  metrics: [
    { key: 'allP50Ms', label: 'seen by all, p50', unit: 'ms', digits: 1 },
    { key: 'allP95Ms', label: 'seen by all, p95', unit: 'ms', digits: 1 },
    { key: 'allP99Ms', label: 'seen by all, p99', unit: 'ms', digits: 1 },
    { key: 'allMaxMs', label: 'seen by all, max', unit: 'ms', digits: 1 },
    { key: 'deliveryP50Ms', label: 'single delivery, p50', unit: 'ms', digits: 1 },
    { key: 'deliveryP99Ms', label: 'single delivery, p99', unit: 'ms', digits: 1 },
    {
      key: 'deliveredPct',
      label: 'updates delivered (within 10 s of the last edit)',
      unit: '%',
      digits: 2,
    },
    { key: 'deliveredPerSec', label: 'delivered updates per second', unit: '/s' },
    { key: 'serverCpuPct', label: 'server CPU', unit: '% of a core' },
    { key: 'serverPeakRssMb', label: 'server peak RSS', unit: 'MiB' },
    {
      key: 'relayLagP99Ms',
      label: "relay's event-loop delay p99 (its /stats, with its 10 ms sampling interval)",
      unit: 'ms',
      digits: 1,
    },
    { key: 'relayLagMaxMs', label: "relay's event-loop delay max", unit: 'ms', digits: 1 },
    {
      key: 'relayFanoutP99Ms',
      label:
        "relay's own receive → send to the others, p99 (its weft_fanout_seconds histogram: " +
        'the bucket bound)',
      unit: 'ms',
      digits: 1,
    },
    { key: 'clientCpuPct', label: 'client CPU, all agents', unit: '% of a core' },
    { key: 'clientBound', label: 'client-bound (agents used ≥ 75% of all cores)', unit: '' },
  ],
  ratios: ['allP99Ms'],
  evaluate: (runs, columns) => {
    const best = bestPeerPerRun(runs, columns, 'allP99Ms', 'lower')
    const hasPeers = columns.some((column) => !column.weft)
    return columns
      .filter((column) => column.weft)
      .flatMap((column): TargetRow[] => {
        const target = 'p99 ≤ ¼ of the best peer'
        const ratios = runs.map((_, run) => valueAt(runs, run, column.id, 'allP99Ms') / best[run]!)
        const delivered = runs.map((_, run) => {
          const pct = valueAt(runs, run, column.id, 'deliveredPct')
          return Number.isNaN(pct) ? undefined : pct === 100
        })
        return [
          hasPeers
            ? ratioTarget(column, target, ratios, (mid) => mid <= 0.25)
            : needsPeers(column, target),
          everyRunTarget(column, 'all updates delivered', delivered, 'complete'),
        ]
      })
  },
})

const fanoutStepOf = (variant: FanoutVariant): Step => ({
  ids: [variant.id],
  columns: (peers) => systemColumns(ALL_SYSTEMS, peers),
  run: (ctx, column) =>
    withResources(ctx.tmpDir, async (resources) => {
      const system = SYSTEMS[column as SystemId]
      const [server, agents] = await Promise.all([
        resources.server(system.server, await resources.dir('fanout')),
        resources.agents('fanout', ctx.sizes.fanoutAgents),
      ])
      const measures = await runFanout(ctx, {
        servers: [server],
        agents,
        client: system.client,
        ratePerSec: variant.ratePerSec(ctx.sizes),
      })
      return { [variant.id]: measures }
    }),
})

/** Workload 5: fan-out at 20 edits a second per client. */
export const fanoutSpec = fanoutSpecOf(FAST)
export const fanoutStep = fanoutStepOf(FAST)
/** Workload 5b: fan-out at 4 edits a second per client. */
export const slowFanoutSpec = fanoutSpecOf(SLOW)
export const slowFanoutStep = fanoutStepOf(SLOW)
