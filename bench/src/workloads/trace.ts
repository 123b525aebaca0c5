/** The step behind workloads 2 and 3: replay the trace through a server, then cold-load it. */
import type { ColdLoadResult } from '../agents/roles/text-watch.js'
import { readMemoryMb, waitForIdle } from '../proc-metrics.js'
import { pickSystems, SYSTEMS, type SystemId } from '../systems.js'
import { withResources } from './resources.js'
import { replayTrace, TRACE_DOC, traceTimeoutMs, traceValues } from './trace-session.js'
import type { Column, Step } from './types.js'

/** The four systems as report columns. */
export const systemColumns = (ids: readonly SystemId[], peers: boolean): Column[] =>
  pickSystems(ids, peers).map((id) => ({ id, label: SYSTEMS[id].label, weft: SYSTEMS[id].weft }))

/** Every system, in report order. */
export const ALL_SYSTEMS: readonly SystemId[] = [
  'weft-client',
  'weft-yws',
  'hocuspocus',
  'y-websocket-server',
]

export const traceStep: Step = {
  ids: ['2', '3'],
  columns: (peers) => systemColumns(ALL_SYSTEMS, peers),
  run: (ctx, column) =>
    withResources(ctx.tmpDir, async (resources) => {
      const system = SYSTEMS[column as SystemId]
      const dataDir = await resources.dir('trace')
      const [server, [writer, reader]] = await Promise.all([
        resources.server(system.server, dataDir),
        resources.agents('trace', 2),
      ])
      const outcome = await replayTrace(system, server, writer!, reader!, ctx.sizes, 'none')
      const two = traceValues(outcome, ctx.sizes)

      // Workload 3: everyone leaves, persistence finishes, the server restarts on its data.
      await Promise.all([writer!.call('doc.close', null), reader!.call('doc.close', null)])
      const idle = await waitForIdle(server.pid)
      if (!idle) ctx.log(`${system.label}: server still busy after 120 s; stopping anyway`)
      const stopped = await server.stop('SIGTERM')
      // The reader's process (warm, its client closed) cold-loads with a fresh client.
      const loader = reader!
      const restarted = await resources.server(system.server, dataDir)
      const load = await loader.call<ColdLoadResult>(
        'text.coldLoad',
        {
          kind: system.client,
          url: restarted.url,
          name: TRACE_DOC,
          timeoutMs: traceTimeoutMs(ctx.sizes),
        },
        traceTimeoutMs(ctx.sizes) + 10_000,
      )
      const three = {
        loadMs: load.doneAt === null ? null : load.doneAt - load.openAt,
        syncedMs: load.syncedAt === null ? null : load.syncedAt - load.openAt,
        syncedEarly: load.lengthAtSynced !== null && load.lengthAtSynced !== load.expectedLength,
        complete: load.doneAt !== null,
        loadedChars: load.finalLength,
        restartMs: restarted.startMs,
        serverPeakRssMb: readMemoryMb(restarted.pid).peakRssMb,
        stopExit: String(stopped),
      }
      return { '2': two, '3': three }
    }),
}
