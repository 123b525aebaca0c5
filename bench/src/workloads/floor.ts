/** Workload 1, the floor: raw Yjs in one process, no network and no storage. */
import type { FloorResult } from '../agents/roles/floor.js'
import type { Step, WorkloadSpec } from './types.js'
import { withResources } from './resources.js'
import { sendTrace } from './trace-session.js'

/** The floor's only column. */
export const FLOOR_COLUMN = { id: 'yjs', label: 'Yjs (one process)', weft: false } as const

export const floorSpec: WorkloadSpec = {
  id: '1',
  title: 'Floor: raw Yjs in one process',
  method: (sizes) =>
    `Apply the first ${sizes.tracePatches.toLocaleString('en-US')} patches of \`automerge-paper\` ` +
    'to a `Y.Text`, one transaction per patch (replay); apply the updates that produced, one by ' +
    'one, to a fresh doc; encode the result with `Y.encodeStateAsUpdate`; load that snapshot ' +
    'into a fresh doc. One agent process, nothing else running. The replay time is the floor ' +
    'that workload 2 is compared with.',
  metrics: [
    { key: 'replayMs', label: 'replay, one transaction per patch', unit: 'ms' },
    { key: 'applyUpdatesMs', label: 'apply the updates one by one', unit: 'ms' },
    { key: 'encodeMs', label: 'encode snapshot', unit: 'ms', digits: 1 },
    { key: 'loadMs', label: 'load snapshot', unit: 'ms', digits: 1 },
    { key: 'snapshotKiB', label: 'snapshot size', unit: 'KiB' },
    { key: 'correct', label: 'every text exact', unit: '' },
  ],
  ratios: [],
  evaluate: () => [],
}

export const floorStep: Step = {
  ids: ['1'],
  columns: () => [FLOOR_COLUMN],
  run: (ctx) =>
    withResources(ctx.tmpDir, async (resources) => {
      const [agent] = await resources.agents('floor', 1)
      await sendTrace([agent!], ctx.sizes)
      const result = await agent!.call<FloorResult>('floor.run', null)
      return {
        '1': {
          replayMs: result.replayMs,
          applyUpdatesMs: result.applyUpdatesMs,
          encodeMs: result.encodeMs,
          loadMs: result.loadMs,
          snapshotKiB: result.snapshotBytes / 1024,
          correct: result.correct,
        },
      }
    }),
}
