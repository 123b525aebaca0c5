/** Workload 4, kill -9 durability: replay, SIGKILL the server at the acknowledgement, read back. */
import type { RecoveredText } from '../agents/roles/recovered-text.js'
import { waitForIdle } from '../proc-metrics.js'
import { SYSTEMS, type SystemId } from '../systems.js'
import { withResources } from './resources.js'
import { everyRunTarget, flagsOf } from './targets.js'
import { ALL_SYSTEMS, systemColumns } from './trace.js'
import { replayTrace, TRACE_DOC } from './trace-session.js'
import type { Step, TargetRow, WorkloadSpec } from './types.js'

export const killSpec: WorkloadSpec = {
  id: '4',
  title: 'Kill -9 durability',
  method: (sizes) =>
    `As workload 2 (${sizes.tracePatches.toLocaleString('en-US')} patches), but the server is ` +
    "killed with SIGKILL by the agent that sees the moment: for Weft's client the writer, as " +
    'soon as `whenSaved()` resolves for the last update; for the y-websocket provider and the ' +
    'peers (no acknowledgements) the reader, as soon as it has the full text. The server is ' +
    'then restarted on the same data; once it is idle a fresh client opens the document and ' +
    'waits until the text is quiet for 1 s. *lost chars* is how many characters of the final ' +
    'text are missing (0 when exact); *corrupted* means the text is neither the final text nor ' +
    "any earlier state of the trace (checked by replaying the trace with the writer's client id " +
    'up to the clock the recovered document holds).',
  metrics: [
    { key: 'exact', label: 'recovered text exactly the final text', unit: '' },
    { key: 'recoveredChars', label: 'characters recovered', unit: '' },
    { key: 'expectedChars', label: 'characters expected', unit: '' },
    { key: 'lostChars', label: 'lost characters', unit: '' },
    { key: 'corrupted', label: 'corrupted (not any state of the trace)', unit: '' },
    { key: 'killAfterMs', label: 'killed after (from first patch)', unit: 'ms' },
    { key: 'restartMs', label: 'restart to listening', unit: 'ms' },
  ],
  ratios: [],
  evaluate: (runs, columns) =>
    columns
      .filter((column) => column.weft)
      .map((column): TargetRow => {
        if (column.id !== 'weft-client') {
          return {
            column: column.label,
            target: 'every acknowledged character is there',
            measured: 'not applicable: the y-websocket dialect has no acknowledgements',
            met: null,
          }
        }
        return everyRunTarget(
          column,
          'every acknowledged character is there, every time',
          flagsOf(runs, column.id, 'exact'),
          'exact',
        )
      }),
}

export const killStep: Step = {
  ids: ['4'],
  columns: (peers) => systemColumns(ALL_SYSTEMS, peers),
  run: (ctx, column) =>
    withResources(ctx.tmpDir, async (resources) => {
      const system = SYSTEMS[column as SystemId]
      const dataDir = await resources.dir('kill')
      const [server, [writer, reader]] = await Promise.all([
        resources.server(system.server, dataDir),
        resources.agents('kill', 2),
      ])
      const mode = system.client === 'weft' ? 'on-saved' : 'on-reader'
      const outcome = await replayTrace(system, server, writer!, reader!, ctx.sizes, mode)
      const killedAt =
        mode === 'on-saved'
          ? (outcome.write.killedAt ?? Number.NaN)
          : (outcome.readerDoneAt ?? Number.NaN)
      const exit = await server.exited
      if (exit !== 'SIGKILL') throw new Error(`server exited with ${exit}, not SIGKILL`)
      // The old clients must not resend to the restarted server: end the writer, and close the
      // reader's client so that its (warm) process can verify with a fresh one.
      await Promise.all([writer!.stop(), reader!.call('doc.close', null)])
      const verifier = reader!
      const restarted = await resources.server(system.server, dataDir)
      await verifier.call('doc.open', { kind: system.client, url: restarted.url, name: TRACE_DOC })
      await waitForIdle(restarted.pid, { quietMs: 1500 })
      const recovered = await verifier.call<RecoveredText>('text.analyze', {
        writerClientId: outcome.writerClientId,
        quietMs: 1000,
      })
      return {
        '4': {
          ...recovered,
          killAfterMs: killedAt - outcome.write.startAt,
          restartMs: restarted.startMs,
        },
      }
    }),
}
