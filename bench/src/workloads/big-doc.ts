/**
 * Workload 14, a large document: the first sync of a text-heavy document of about 20 MB, and a
 * reconnect after ten edits on each side, on a relay that compresses large frames (its default)
 * and on one that does not.
 */
import { readMemoryMb } from '../proc-metrics.js'
import { relayCounter } from './relay-stats.js'
import { withResources } from './resources.js'
import { ratioTarget, valueAt } from './targets.js'
import type { Column, RunTable, Step, TargetRow, WorkloadSpec } from './types.js'

const COMPRESSED: Column = {
  id: 'weft-compressed',
  label: 'Weft, compression on (default)',
  weft: true,
}
const PLAIN: Column = { id: 'weft-plain', label: 'Weft, `--compress-from-bytes 0`', weft: true }

const DOC = 'big/paper'
/** Characters per edit while the writer fills the document (within the relay's frame limit). */
const CHUNK_CHARS = 1_000_000

/** The target: fewer bytes on the wire for the first sync of a text-heavy document. */
const TARGET_SAVING_PCT = 40
/** The targets of a join storm: every joiner synced within 3 s (p99), the relay within 1 GiB. */
const STORM_P99_MS = 3000
const STORM_PEAK_RSS_MB = 1024

export const bigDocSpec: WorkloadSpec = {
  id: '14',
  title: 'Large document',
  method: (sizes) =>
    `Weft's client writes ${sizes.bigDocChars.toLocaleString('en-US')} characters of the ` +
    '`automerge-paper` text (repeated) into the text `t` of one document, in edits of ' +
    `${CHUNK_CHARS.toLocaleString('en-US')} characters, and waits for \`saved\`. Then a fresh ` +
    "Weft client (another process) opens the document: the first sync's time to `synced` and " +
    'the bytes the relay sent meanwhile (its `weft_bytes_out_total`). Then that client ' +
    'disconnects and makes ten edits, the writer makes ten and has them saved, and the client ' +
    'reconnects: the time until it is synced with its edits saved, and the bytes the relay sent ' +
    `and received meanwhile. Then ${sizes.stormJoiners.toLocaleString('en-US')} fresh clients ` +
    'join at once, each on its own socket speaking the Weft protocol directly from one agent ' +
    'process (keeping nothing of the document): the time from opening its socket until its ' +
    "whole first sync frame has arrived, p50 and p99, and the relay's peak RSS; then fresh " +
    'clients join one after another, 10 at a time, for 10 s (1 s in --quick): joins per second. ' +
    'The relay runs at its defaults on LevelDB (compressing frames from ' +
    '64 KiB for clients that speak protocol 2), and with `--compress-from-bytes 0`.',
  metrics: [
    { key: 'docBytes', label: 'document (encoded state)', unit: 'B' },
    { key: 'firstSyncMs', label: 'first sync: time to synced', unit: 'ms' },
    { key: 'firstSyncBytes', label: 'first sync: bytes sent by the relay', unit: 'B' },
    {
      key: 'reconnectMs',
      label: 'reconnect after 10 edits each way: synced and saved',
      unit: 'ms',
    },
    { key: 'reconnectBytes', label: 'reconnect: bytes sent and received by the relay', unit: 'B' },
    { key: 'stormP50Ms', label: 'join storm: time to the whole first sync, p50', unit: 'ms' },
    { key: 'stormP99Ms', label: 'join storm: time to the whole first sync, p99', unit: 'ms' },
    { key: 'joinsPerSec', label: 'sustained joins (10 at a time)', unit: '/s' },
    { key: 'serverPeakRssMb', label: 'relay peak RSS (whole run)', unit: 'MiB' },
  ],
  ratios: ['firstSyncBytes', 'firstSyncMs', 'reconnectBytes'],
  baseline: PLAIN.id,
  evaluate: (runs) => [
    savingTarget(runs),
    ratioTarget(
      COMPRESSED,
      `a join storm's p99 within ${STORM_P99_MS.toLocaleString('en-US')} ms`,
      runs.map((_, run) => valueAt(runs, run, COMPRESSED.id, 'stormP99Ms')),
      (p99Ms) => p99Ms <= STORM_P99_MS,
      ' ms',
    ),
    ratioTarget(
      COMPRESSED,
      `relay peak RSS within ${STORM_PEAK_RSS_MB.toLocaleString('en-US')} MiB`,
      runs.map((_, run) => valueAt(runs, run, COMPRESSED.id, 'serverPeakRssMb')),
      (peakMb) => peakMb <= STORM_PEAK_RSS_MB,
      ' MiB',
    ),
  ],
}

/** Bytes of the compressed first sync against the plain one, per run. */
const savingTarget = (runs: RunTable): TargetRow =>
  ratioTarget(
    COMPRESSED,
    `first sync of a text-heavy document in at least ${TARGET_SAVING_PCT}% fewer bytes`,
    runs.map(
      (_, run) =>
        100 *
        (1 -
          valueAt(runs, run, COMPRESSED.id, 'firstSyncBytes') /
            valueAt(runs, run, PLAIN.id, 'firstSyncBytes')),
    ),
    (savingPct) => savingPct >= TARGET_SAVING_PCT,
    '% fewer bytes',
  )

/** The relay's bytes sent and received so far. */
const relayBytes = async (port: number): Promise<{ out: number; in: number }> => {
  const [out, received] = await Promise.all([
    relayCounter(port, 'weft_bytes_out_total'),
    relayCounter(port, 'weft_bytes_in_total'),
  ])
  return { out, in: received }
}

export const bigDocStep: Step = {
  ids: ['14'],
  columns: () => [COMPRESSED, PLAIN],
  run: (ctx, column) =>
    withResources(ctx.tmpDir, async (resources) => {
      const timeoutMs = 300_000
      const [dataDir, agents] = await Promise.all([
        resources.dir('big-doc'),
        resources.agents('big-doc', 2),
      ])
      const [writer, reader] = agents as [(typeof agents)[0], (typeof agents)[0]]
      const server = await resources.server(
        'weft',
        dataDir,
        column === PLAIN.id ? { compressFromBytes: 0 } : {},
      )
      const open = { kind: 'weft', url: server.url, name: DOC }
      await writer.call('doc.open', open)
      const { chars, docBytes } = await writer.call<{ chars: number; docBytes: number }>(
        'bigdoc.write',
        {
          chars: ctx.sizes.bigDocChars,
          chunkChars: CHUNK_CHARS,
          timeoutMs,
        },
      )
      const beforeSync = await relayBytes(server.port)
      const sync = await reader.call<{ ms: number; chars: number }>('bigdoc.sync', {
        ...open,
        timeoutMs,
      })
      const afterSync = await relayBytes(server.port)
      if (sync.chars !== chars)
        throw new Error(`the reader synced ${sync.chars} of ${chars} characters`)
      await reader.call('bigdoc.leave', {})
      await writer.call('bigdoc.edit', { timeoutMs })
      const beforeReturn = await relayBytes(server.port)
      const back = await reader.call<{ ms: number; chars: number }>('bigdoc.return', { timeoutMs })
      const afterReturn = await relayBytes(server.port)
      if (back.chars <= chars) throw new Error('the reader came back without the edits')
      const times = await reader.call<number[]>('bigdoc.storm', {
        url: server.url,
        name: DOC,
        joiners: ctx.sizes.stormJoiners,
        timeoutMs,
      })
      const joinsPerSec = await reader.call<number>('bigdoc.sustained', {
        url: server.url,
        name: DOC,
        concurrency: 10,
        durationMs: ctx.sizes.bigDocChars >= 10_000_000 ? 10_000 : 1_000,
      })
      const quantile = (q: number): number =>
        times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)] as number
      return {
        '14': {
          docBytes,
          firstSyncMs: sync.ms,
          firstSyncBytes: afterSync.out - beforeSync.out,
          reconnectMs: back.ms,
          reconnectBytes: afterReturn.out - beforeReturn.out + (afterReturn.in - beforeReturn.in),
          stormP50Ms: quantile(0.5),
          stormP99Ms: quantile(0.99),
          joinsPerSec,
          serverPeakRssMb: readMemoryMb(server.pid).peakRssMb,
        },
      }
    }),
}
