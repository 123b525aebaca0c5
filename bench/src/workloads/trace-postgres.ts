/** Workload 12, the trace through PostgreSQL: workload 2 with the relay on `--store postgres` against LevelDB. */
import { readTreeCpuMs } from '../proc-metrics.js'
import { SYSTEMS } from '../systems.js'
import { postmasterPid } from './fanout-cluster.js'
import { withResources, type Resources } from './resources.js'
import { replayTrace, traceValues } from './trace-session.js'
import type { Column, Step, WorkloadSpec } from './types.js'

const LEVEL: Column = { id: 'weft-level', label: 'Weft (Weft client), LevelDB', weft: true }
const POSTGRES: Column = {
  id: 'weft-postgres',
  label: 'Weft (Weft client), PostgreSQL',
  weft: true,
}

export const tracePostgresSpec: WorkloadSpec = {
  id: '12',
  title: 'Trace through PostgreSQL',
  method: (sizes) =>
    "Workload 2 with Weft's client (the first " +
    `${sizes.tracePatches.toLocaleString('en-US')} patches of \`automerge-paper\`, one update ` +
    'per patch, until the reader has the exact text and the writer has `saved` for every ' +
    'update) against one relay at its defaults on LevelDB, and the same relay with ' +
    "`--store postgres` on a fresh database of a PostgreSQL server of its own (testkit's: " +
    '`fsync` and `synchronous_commit` on, `shared_buffers` 32 MB), on the same machine and ' +
    "started afresh for each run. *PostgreSQL CPU* is its postmaster's and backends'. Ratios " +
    'divide the PostgreSQL figure by the LevelDB figure of the same run.',
  metrics: [
    { key: 'doneMs', label: 'done (reader exact and all saved)', unit: 'ms' },
    { key: 'readerMs', label: 'reader has the exact final text', unit: 'ms' },
    { key: 'savedMs', label: 'writer has `saved` for everything', unit: 'ms' },
    { key: 'updatesPerSec', label: 'updates per second (to done)', unit: '/s' },
    { key: 'serverCpuMs', label: 'relay CPU', unit: 'ms' },
    { key: 'postgresCpuMs', label: 'PostgreSQL CPU', unit: 'ms' },
    { key: 'serverPeakRssMb', label: 'relay peak RSS', unit: 'MiB' },
    { key: 'clientCpuMs', label: 'client CPU (writer + reader)', unit: 'ms' },
  ],
  ratios: ['doneMs', 'savedMs', 'updatesPerSec', 'serverPeakRssMb'],
  baseline: LEVEL.id,
  evaluate: () => [],
}

/** Relay options for the column, with PostgreSQL's pid when it runs one. */
const storeOf = async (
  resources: Resources,
  column: string,
): Promise<{ options: { postgresUrl?: string }; postgresPid: number | null }> => {
  if (column === LEVEL.id) return { options: {}, postgresPid: null }
  const postgres = await resources.postgres()
  return {
    options: { postgresUrl: await postgres.createDatabase() },
    postgresPid: await postmasterPid(postgres.dataDir),
  }
}

export const tracePostgresStep: Step = {
  ids: ['12'],
  columns: () => [LEVEL, POSTGRES],
  run: (ctx, column) =>
    withResources(ctx.tmpDir, async (resources) => {
      const [{ options, postgresPid }, [writer, reader]] = await Promise.all([
        storeOf(resources, column),
        resources.agents('store', 2),
      ])
      const server = await resources.server('weft', await resources.dir('store'), options)
      const postgresCpuBefore = postgresPid === null ? 0 : readTreeCpuMs(postgresPid)
      const system = SYSTEMS['weft-client']
      const outcome = await replayTrace(system, server, writer!, reader!, ctx.sizes, 'none')
      const postgresCpuMs =
        postgresPid === null ? null : readTreeCpuMs(postgresPid) - postgresCpuBefore
      const values = traceValues(outcome, ctx.sizes)
      return {
        '12': {
          doneMs: values.doneMs ?? null,
          readerMs: values.readerMs ?? null,
          savedMs: values.savedMs ?? null,
          updatesPerSec: values.updatesPerSec ?? null,
          serverCpuMs: values.serverCpuMs ?? null,
          postgresCpuMs,
          serverPeakRssMb: values.serverPeakRssMb ?? null,
          clientCpuMs: values.clientCpuMs ?? null,
        },
      }
    }),
}
