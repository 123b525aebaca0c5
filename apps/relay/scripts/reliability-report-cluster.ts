/** The section of docs/RELIABILITY.md on the runs against three relays on PostgreSQL and Redis. */
import { cpus } from 'node:os'
import type { ClusterSetCheckResult, SimulationResult } from '@weft/testkit'
import { bold, percentile, seedList, sum, table } from './report-markdown.js'

/** What the section needs of one `pnpm reliability` run. */
export interface ClusterRuns {
  readonly command: string
  readonly commit: string
  readonly sizes: {
    readonly clusterSet: { readonly clients: number; readonly itemsPerClient: number }
    readonly clusterSimulation: { readonly steps: number }
  }
  readonly clusterSet: readonly ClusterSetCheckResult[]
  readonly clusterSimulation: readonly SimulationResult[]
}

const setTable = (runs: ClusterRuns, reproduce: (seeds: readonly number[]) => string): string => {
  const results = runs.clusterSet
  return table(
    [
      'seed',
      'adds',
      'ok',
      'lost (must be 0)',
      'unknown, present',
      'unknown, absent',
      'unexpected, duplicates (must be 0)',
      'replicas compared',
      'diverged (must be 0)',
      'kills',
      'writer moved relay',
      'add → saved p50 / p99 (ms)',
      'add → at every writer p50 / p99 (ms)',
      'all killed → all agree (ms)',
      'reproduce',
    ],
    [
      ...results.map((result) => [
        result.seed,
        result.attempted,
        result.ok,
        result.lost,
        result.recoveredUnknown,
        result.unknownAbsent,
        `${result.unexpected}, ${result.duplicates}`,
        result.replicas,
        result.divergences,
        result.kills,
        result.failovers,
        `${result.savedP50Ms} / ${result.savedP99Ms}`,
        `${result.convergeP50Ms} / ${result.convergeP99Ms}`,
        result.finalConvergeMs,
        reproduce([result.seed]),
      ]),
      [
        '**all**',
        sum(results, (result) => result.attempted),
        sum(results, (result) => result.ok),
        bold(sum(results, (result) => result.lost)),
        sum(results, (result) => result.recoveredUnknown),
        sum(results, (result) => result.unknownAbsent),
        `${bold(sum(results, (result) => result.unexpected))}, ${bold(sum(results, (result) => result.duplicates))}`,
        sum(results, (result) => result.replicas),
        bold(sum(results, (result) => result.divergences)),
        sum(results, (result) => result.kills),
        sum(results, (result) => result.failovers),
        '',
        '',
        '',
        '',
      ],
    ],
  )
}

const simulationTable = (
  runs: ClusterRuns,
  reproduce: (seeds: readonly number[]) => string,
): string => {
  const results = runs.clusterSimulation
  const row = (
    label: string | number,
    picked: readonly SimulationResult[],
  ): (string | number)[] => {
    const total = (value: (result: SimulationResult) => number): number => sum(picked, value)
    return [
      label,
      total((result) => result.edits),
      total((result) => result.acknowledged),
      total((result) => result.faults.delivered),
      total((result) => result.faults.cuts),
      total((result) => result.faults.lost),
      total((result) => result.faults.partitions),
      total((result) => result.faults.clientRestarts),
      total((result) => result.faults.relayRestarts),
      bold(total((result) => result.lost)),
      bold(total((result) => result.divergences)),
      `${percentile(
        picked.map((result) => result.convergeMs),
        50,
      )}`,
      typeof label === 'number' ? reproduce([label]) : '',
    ]
  }
  return table(
    [
      'seed',
      'edits',
      'acknowledged',
      'frames delivered',
      'cuts',
      'frames lost',
      'partitions',
      'client restarts',
      'relay kills',
      'lost edits (must be 0)',
      'divergences (must be 0)',
      'heal → converged (ms, p50)',
      'reproduce',
    ],
    [...results.map((result) => row(result.seed, [result])), row('**all**', results)],
  )
}

/** The section, or nothing when neither run ran. */
export const renderClusterSection = (runs: ClusterRuns): string => {
  if (runs.clusterSet.length + runs.clusterSimulation.length === 0) return ''
  const { command, commit, sizes } = runs
  const reproduce =
    (name: string) =>
    (seeds: readonly number[]): string =>
      `\`${command} --only ${name} --seeds ${seedList(seeds)}\``
  return `## Several relays: three relay processes on one PostgreSQL and one Redis

Measured at commit \`${commit}\` by \`${command}\` on ${cpus().length} cores, Node ${process.version}. Each run starts its own PostgreSQL (\`fsync\` on) and Redis, and three relay processes with \`--store postgres --postgres-url … --redis-url …\`. \`pnpm test\` runs both at smoke size (apps/relay/test/cluster.reliability.test.ts, \`WEFT_SEED=<seed>\` replays its seeds).

**Set check.** ${sizes.clusterSet.clients} Weft clients each add ${sizes.clusterSet.itemsPerClient} unique items to one shared \`Y.Array\`, one every 10 ms. Client \`i\` prefers relay \`i mod 3\` and reaches it through that relay's fault proxy (delays 0–20 ms, 2% duplicated, 2% reordered frames); when its relay is down, its next connection goes to the next live relay, as behind a load balancer ("writer moved relay" counts those moves). At seeded moments a seeded relay is SIGKILLed and restarted on its port. Then all three relays are SIGKILLed and restarted, a fresh reader opens the set on each, and every acknowledged add must be in PostgreSQL (read directly), at each reader and at each writer, and every one of them must reach PostgreSQL's state vector ("replicas compared" counts PostgreSQL, three readers and the writers). The seed fixes the kill schedule, the victims and the proxies' decisions; process and network timing still vary between runs.

${setTable(runs, reproduce('cluster-set'))}

**Convergence simulation.** The seeded simulation above (3 Weft clients with local stores, 1 y-websocket client, ${sizes.clusterSimulation.steps} steps per seed) with the relay side replaced: client \`c\`'s \`n\`th connection goes to relay \`(c + n) mod 3\`, so every reconnect moves a client to another relay and edits reach the others through Redis and PostgreSQL. A relay restart is a SIGKILL of a seeded relay and a new process on its port; besides the seeded ones, every seed kills a relay at a third and at two thirds of its steps. The scheduler cannot await the relay processes' writes, so after each move it waits 10 ms per settling round instead: the moves come from the seed, but the run does not replay exactly. The stored copy compared at the end is PostgreSQL's.

${simulationTable(runs, reproduce('cluster-simulation'))}
`
}
