/** How workloads 2 (trace through the relay) and 3 (cold load) are reported and judged. */
import type { Sizes } from '../options.js'
import { FLOOR_COLUMN } from './floor.js'
import {
  bestPeerPerRun,
  everyRunTarget,
  flagsOf,
  needsPeers,
  ratioTarget,
  valueAt,
} from './targets.js'
import type { Column, RunTable, TargetRow, WorkloadSpec } from './types.js'

const patchesText = (sizes: Sizes): string =>
  `the first ${sizes.tracePatches.toLocaleString('en-US')} patches of \`automerge-paper\``

export const traceSpec: WorkloadSpec = {
  id: '2',
  title: 'Trace through the relay',
  method: (sizes) =>
    `One writer agent replays ${patchesText(sizes)}, one Yjs transaction (so one update) per ` +
    'patch, as fast as the socket allows: it yields to its event loop every 100 patches and ' +
    "waits while the socket's `bufferedAmount` is over 1 MiB. A reader agent on the same " +
    'document waits until its text equals the final text exactly. Times run from the first ' +
    "patch; *done* is the reader's time, or for Weft's client the later of that and the " +
    "writer's `saved` for every update (`whenSaved()`). Each system's server is a fresh " +
    'process with a fresh data directory; the peers run with their default settings.',
  metrics: [
    { key: 'doneMs', label: 'done (reader exact; Weft client: and all saved)', unit: 'ms' },
    { key: 'readerMs', label: 'reader has the exact final text', unit: 'ms' },
    { key: 'savedMs', label: 'writer has `saved` for everything', unit: 'ms' },
    { key: 'writeMs', label: 'writer applied every patch', unit: 'ms' },
    { key: 'updatesPerSec', label: 'updates per second (to done)', unit: '/s' },
    { key: 'clientCpuMs', label: 'client CPU (writer + reader)', unit: 'ms' },
    { key: 'serverCpuMs', label: 'server CPU', unit: 'ms' },
    { key: 'serverPeakRssMb', label: 'server peak RSS', unit: 'MiB' },
  ],
  ratios: ['doneMs'],
  evaluate: (runs, columns, context) => {
    const floor = context.runsOf('1')
    const best = bestPeerPerRun(runs, columns, 'doneMs', 'lower')
    const hasPeers = columns.some((column) => !column.weft)
    return columns
      .filter((column) => column.weft)
      .flatMap((column): TargetRow[] => {
        // Weft's client batches a turn's edits; a stock provider sends one message per edit, and
        // the target for it is to beat both peers with less memory than Hocuspocus.
        const stock = column.id === 'weft-yws'
        const faster = stock ? 'faster than both peers' : '≥ 3× faster than the faster peer'
        const speedups = runs.map((_, run) => best[run]! / valueAt(runs, run, column.id, 'doneMs'))
        const floorRatios = runs.map(
          (_, run) =>
            valueAt(runs, run, column.id, 'doneMs') /
            (floor === undefined ? Number.NaN : valueAt(floor, run, FLOOR_COLUMN.id, 'replayMs')),
        )
        const rows = [
          hasPeers
            ? ratioTarget(column, faster, speedups, (mid) => mid >= (stock ? 1 : 3))
            : needsPeers(column, faster),
          ratioTarget(
            column,
            'within 4× of the floor (workload 1 replay)',
            floorRatios,
            (mid) => mid <= 4,
          ),
        ]
        if (!stock) return rows
        const lighter = "peak RSS ≤ Hocuspocus's"
        const hocuspocus = hocuspocusOf(columns)
        const rssRatios = runs.map(
          (_, run) =>
            valueAt(runs, run, column.id, 'serverPeakRssMb') /
            valueAt(runs, run, hocuspocus?.id ?? '', 'serverPeakRssMb'),
        )
        return [
          ...rows,
          hocuspocus === undefined
            ? needsPeers(column, lighter)
            : ratioTarget(column, lighter, rssRatios, (mid) => mid <= 1),
        ]
      })
  },
}

const hocuspocusOf = (columns: readonly Column[]): Column | undefined =>
  columns.find((column) => column.id === 'hocuspocus')

export const coldLoadSpec: WorkloadSpec = {
  id: '3',
  title: 'Cold load',
  method: () =>
    "After workload 2's replay both clients leave, the harness waits until the server process " +
    'is idle (under 3% of a core for 1 s, so background persistence has finished), stops it ' +
    'with SIGTERM, starts it again on the same data directory, and then opens the document ' +
    "with a fresh client in the reader's agent process. *load* is the time from opening until " +
    'the text equals the final text exactly; *synced early* means the client reported synced ' +
    'while its text was still incomplete. A load that does not complete within the timeout ' +
    'counts as failed with the characters it had.',
  metrics: [
    { key: 'loadMs', label: 'fresh client has the full text', unit: 'ms' },
    { key: 'syncedMs', label: 'client reported synced', unit: 'ms', digits: 1 },
    { key: 'syncedEarly', label: 'reported synced before the data was there', unit: '' },
    { key: 'complete', label: 'full text arrived', unit: '' },
    { key: 'loadedChars', label: 'characters loaded', unit: '' },
    { key: 'restartMs', label: 'server process start to listening', unit: 'ms' },
    { key: 'serverPeakRssMb', label: 'server peak RSS (after the load)', unit: 'MiB' },
  ],
  ratios: ['loadMs'],
  evaluate: (runs: RunTable, columns) => {
    const hocuspocus = hocuspocusOf(columns)
    return columns
      .filter((column) => column.weft)
      .flatMap((column): TargetRow[] => {
        const target = '≥ 2.5× faster than Hocuspocus'
        const speedups = runs.map(
          (_, run) =>
            valueAt(runs, run, hocuspocus?.id ?? '', 'loadMs') /
            valueAt(runs, run, column.id, 'loadMs'),
        )
        const early = flagsOf(runs, column.id, 'syncedEarly').map((flag) =>
          flag === undefined ? undefined : !flag,
        )
        return [
          hocuspocus === undefined
            ? needsPeers(column, target)
            : ratioTarget(column, target, speedups, (mid) => mid >= 2.5),
          everyRunTarget(
            column,
            'never "synced" before the data is there',
            early,
            'synced only with the data',
          ),
        ]
      })
  },
}
