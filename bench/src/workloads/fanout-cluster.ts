/**
 * Workload 11, fan-out across relays: workload 5 on one relay on LevelDB, one relay on
 * PostgreSQL, and three relays sharing one PostgreSQL and one Redis.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ServerProcess } from '../servers/start-server.js'
import { runFanout } from './fanout-session.js'
import { withResources, type Resources } from './resources.js'
import { everyRunTarget } from './targets.js'
import type { Column, Step, TargetRow, WorkloadSpec } from './types.js'

/** How many relays share the store and the bus in the cluster column. */
export const CLUSTER_RELAYS = 3

const LEVEL: Column = { id: 'level-1', label: 'Weft, 1 relay, LevelDB', weft: true }
const POSTGRES: Column = { id: 'postgres-1', label: 'Weft, 1 relay, PostgreSQL', weft: true }
const CLUSTER: Column = {
  id: `postgres-${CLUSTER_RELAYS}`,
  label: `Weft, ${CLUSTER_RELAYS} relays, PostgreSQL + Redis`,
  weft: true,
}

export const fanoutClusterSpec: WorkloadSpec = {
  id: '11',
  title: 'Fan-out across relays',
  method: (sizes) =>
    `Workload 5 (${sizes.fanoutClients} Weft clients on one document, each editing ` +
    `${sizes.fanoutRatePerSec} times a second for ${sizes.fanoutDurationMs / 1000} s, over ` +
    `${sizes.fanoutAgents} agent processes) against three set-ups, each relay a process of its ` +
    'own at its defaults: one relay on LevelDB (as in workload 5), one relay with ' +
    `\`--store postgres\`, and ${CLUSTER_RELAYS} relays with \`--store postgres\` on one ` +
    'database and `--redis-url` on one Redis, client *c* connecting to relay *c* mod ' +
    `${CLUSTER_RELAYS} (so the clients are spread evenly and every relay has writers and ` +
    'readers; an edit reaches the clients of the other relays through Redis). PostgreSQL ' +
    "(fsync on, testkit's server) and Redis (no persistence) run on the same machine, started " +
    "afresh for each run. *Relays' CPU* and *peak RSS* add up over the relays; *PostgreSQL " +
    "CPU* is its postmaster and backends'. Ratios divide each set-up's figure by the one-relay " +
    'LevelDB figure of the same run.',
  metrics: [
    { key: 'allP50Ms', label: 'seen by all, p50', unit: 'ms', digits: 1 },
    { key: 'allP99Ms', label: 'seen by all, p99', unit: 'ms', digits: 1 },
    { key: 'deliveryP50Ms', label: 'single delivery, p50', unit: 'ms', digits: 1 },
    { key: 'deliveryP99Ms', label: 'single delivery, p99', unit: 'ms', digits: 1 },
    {
      key: 'deliveredPct',
      label: 'updates delivered (within 10 s of the last edit)',
      unit: '%',
      digits: 2,
    },
    { key: 'deliveredPerSec', label: 'delivered updates per second', unit: '/s' },
    { key: 'serverCpuPct', label: "relays' CPU, summed", unit: '% of a core' },
    { key: 'postgresCpuPct', label: 'PostgreSQL CPU', unit: '% of a core' },
    { key: 'serverPeakRssMb', label: "relays' peak RSS, summed", unit: 'MiB' },
    { key: 'relayLagP99Ms', label: "relays' event-loop delay p99, worst", unit: 'ms', digits: 1 },
    { key: 'clientCpuPct', label: 'client CPU, all agents', unit: '% of a core' },
    { key: 'clientBound', label: 'client-bound (agents used ≥ 75% of all cores)', unit: '' },
  ],
  ratios: ['deliveryP50Ms', 'deliveryP99Ms', 'allP99Ms', 'deliveredPerSec'],
  baseline: LEVEL.id,
  evaluate: (runs, columns) =>
    columns.map((column): TargetRow =>
      everyRunTarget(
        column,
        'all updates delivered',
        runs.map((row) => {
          const cell = row[column.id]
          return cell?.ok === true ? cell.values['deliveredPct'] === 100 : undefined
        }),
        'complete',
      ),
    ),
}

/** The postmaster's pid, from the first line of `postmaster.pid` in the data directory. */
export const postmasterPid = async (dataDir: string): Promise<number> =>
  Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0])

/** Starts the column's relays (and PostgreSQL and Redis when it needs them). */
const startRelays = async (
  resources: Resources,
  column: string,
): Promise<{ relays: ServerProcess[]; postgresPid: number | null }> => {
  if (column === LEVEL.id) {
    return {
      relays: [await resources.server('weft', await resources.dir('fanout'))],
      postgresPid: null,
    }
  }
  const cluster = column === CLUSTER.id
  const [postgres, redis] = await Promise.all([
    resources.postgres(),
    cluster ? resources.redis() : null,
  ])
  const postgresUrl = await postgres.createDatabase()
  const options = { postgresUrl, ...(redis === null ? {} : { redisUrl: redis.url }) }
  const count = cluster ? CLUSTER_RELAYS : 1
  // One at a time: the first creates the schema, the others find it there.
  const relays: ServerProcess[] = []
  for (let index = 0; index < count; index++) {
    relays.push(await resources.server('weft', await resources.dir('fanout'), options))
  }
  return { relays, postgresPid: await postmasterPid(postgres.dataDir) }
}

export const fanoutClusterStep: Step = {
  ids: ['11'],
  columns: () => [LEVEL, POSTGRES, CLUSTER],
  run: (ctx, column) =>
    withResources(ctx.tmpDir, async (resources) => {
      const [{ relays, postgresPid }, agents] = await Promise.all([
        startRelays(resources, column),
        resources.agents('fanout', ctx.sizes.fanoutAgents),
      ])
      const { sidecarCpuPct, ...measures } = await runFanout(ctx, {
        servers: relays,
        agents,
        client: 'weft',
        ratePerSec: ctx.sizes.fanoutRatePerSec,
        sidecarPids: postgresPid === null ? [] : [postgresPid],
      })
      return { '11': { ...measures, postgresCpuPct: sidecarCpuPct ?? null } }
    }),
}
