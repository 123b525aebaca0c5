/** Workload 7, the cost of durability: workload 2 with group commit (fsync) against sync off. */
import { SYSTEMS } from '../systems.js'
import { withResources } from './resources.js'
import { ratioTarget, valueAt } from './targets.js'
import { replayTrace, traceValues } from './trace-session.js'
import type { Column, Step, WorkloadSpec } from './types.js'

const SYNC: Column = { id: 'weft-sync', label: 'Weft (Weft client), --sync true', weft: true }
const NO_SYNC: Column = { id: 'weft-nosync', label: 'Weft (Weft client), --sync false', weft: true }

export const durabilitySpec: WorkloadSpec = {
  id: '7',
  title: 'Cost of durability',
  method: () =>
    "Workload 2 with Weft's client against the same relay started with `--sync true` (the " +
    'default: each group commit is fsynced before `saved`) and with `--sync false`. Throughput ' +
    'is updates per second until the reader has the text and the writer has `saved` for every ' +
    'update; the ratio is sync/no-sync throughput per run.',
  metrics: [
    { key: 'doneMs', label: 'done (reader exact and all saved)', unit: 'ms' },
    { key: 'savedMs', label: 'writer has `saved` for everything', unit: 'ms' },
    { key: 'updatesPerSec', label: 'updates per second', unit: '/s' },
    { key: 'serverCpuMs', label: 'server CPU', unit: 'ms' },
    { key: 'clientCpuMs', label: 'client CPU (writer + reader)', unit: 'ms' },
  ],
  ratios: [],
  evaluate: (runs) => {
    const ratios = runs.map(
      (_, run) =>
        valueAt(runs, run, SYNC.id, 'updatesPerSec') /
        valueAt(runs, run, NO_SYNC.id, 'updatesPerSec'),
    )
    return [
      ratioTarget(
        SYNC,
        '≥ 85% of the no-sync throughput',
        ratios.map((r) => 100 * r),
        (mid) => mid >= 85,
        '%',
      ),
    ]
  },
}

export const durabilityStep: Step = {
  ids: ['7'],
  columns: () => [SYNC, NO_SYNC],
  run: (ctx, column) =>
    withResources(ctx.tmpDir, async (resources) => {
      const system = SYSTEMS['weft-client']
      const [server, [writer, reader]] = await Promise.all([
        resources.server('weft', await resources.dir('sync'), { sync: column === SYNC.id }),
        resources.agents('sync', 2),
      ])
      const outcome = await replayTrace(system, server, writer!, reader!, ctx.sizes, 'none')
      const values = traceValues(outcome, ctx.sizes)
      return {
        '7': {
          doneMs: values.doneMs ?? null,
          savedMs: values.savedMs ?? null,
          updatesPerSec: values.updatesPerSec ?? null,
          serverCpuMs: values.serverCpuMs ?? null,
          clientCpuMs: values.clientCpuMs ?? null,
        },
      }
    }),
}
