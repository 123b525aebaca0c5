/**
 * Workload 15, app lifecycle: an app with several documents open goes to the background (its
 * socket closes), edits are made on both sides meanwhile, and it comes back to the foreground:
 * how long until it is synced again, its edits saved and the other device's edits received.
 */
import type { ForegroundResult, OpenDocsParams, RemoteEdit } from '../agents/roles/lifecycle.js'
import type { Sizes } from '../options.js'
import { latencySummary, median } from '../stats.js'
import { withResources } from './resources.js'
import { sendTrace } from './trace-session.js'
import { ratioTarget, valueAt } from './targets.js'
import type { Column, Step, WorkloadSpec } from './types.js'

const LOOPBACK: Column = { id: 'weft-loopback', label: 'Weft, loopback', weft: true }
/** The round trip of a healthy mobile link (4G/5G: some 50–100 ms; its upper end). */
const MOBILE_RTT_MS = 100
const MOBILE: Column = {
  id: 'weft-mobile',
  label: `Weft, ${MOBILE_RTT_MS} ms round trip`,
  weft: true,
}

/** The app's `backgroundKeepAliveMs` (default 30 s): short, so every cycle closes its socket. */
const KEEP_ALIVE_MS = 100
/** Documents the app types into in each cycle, and documents the other device types into. */
const APP_EDITS = 3
const PEER_EDITS = 3
/** The target: synced again within this long after `setLifecycle('foreground')`, p95. */
const TARGET_P95_MS = 1500
const TARGET =
  `synced, saved and up to date within ${TARGET_P95_MS.toLocaleString('en-US')} ms ` +
  'of the foreground (p95)'

/** `count` consecutive document indices from `from`, wrapping around `docs`. */
const indicesFrom = (from: number, count: number, docs: number): number[] =>
  Array.from({ length: count }, (_, offset) => (from + offset) % docs)

export const appLifecycleSpec: WorkloadSpec = {
  id: '15',
  title: 'App lifecycle',
  method: (sizes: Sizes) =>
    `One Weft client (one socket) opens ${sizes.lifecycleDocs} documents, each holding the text ` +
    `of the first ${sizes.tracePatches.toLocaleString('en-US')} patches of \`automerge-paper\` ` +
    'with their history (written and saved by a second client, the other device, in another ' +
    `process), and waits until all are synced. Then ${sizes.lifecycleCycles} cycles: the app ` +
    `goes to the background (\`setLifecycle('background')\`, \`backgroundKeepAliveMs: ` +
    `${KEEP_ALIVE_MS}\`) and, once its socket has closed, types a word (one transaction per ` +
    `character) into ${APP_EDITS} documents; the other device types a word into ${PEER_EDITS} ` +
    'documents (one of them also edited by the app) and waits for `saved`; then ' +
    "`setLifecycle('foreground')`, and the time until every document is synced, every edit " +
    "made in the background saved (`whenSaved`) and every one of the other device's edits " +
    'received. p50, p95 and max are over the cycles of a run. The relay runs at its defaults on ' +
    'LevelDB, on loopback, and behind a link that delays every byte by half of a ' +
    `${MOBILE_RTT_MS} ms round trip each way, plus one round trip before a connection's first ` +
    'bytes (the TCP handshake); no TLS, no bandwidth limit, no loss. The other device connects ' +
    'directly.',
  metrics: [
    { key: 'docBytes', label: 'each document (encoded state)', unit: 'B' },
    { key: 'firstSyncMs', label: 'first sync of every document', unit: 'ms' },
    { key: 'offlineMs', label: 'to the background: socket closed, p50', unit: 'ms' },
    { key: 'pending', label: 'edits waiting at each return (outbox)', unit: '' },
    { key: 'connectedP50Ms', label: 'to the foreground: connection accepted, p50', unit: 'ms' },
    { key: 'syncedP95Ms', label: 'to the foreground: every document synced, p95', unit: 'ms' },
    { key: 'savedP95Ms', label: 'to the foreground: background edits saved, p95', unit: 'ms' },
    {
      key: 'receivedP95Ms',
      label: "to the foreground: the peer's edits received, p95",
      unit: 'ms',
    },
    { key: 'doneP50Ms', label: 'to the foreground: all of it, p50', unit: 'ms' },
    { key: 'doneP95Ms', label: 'to the foreground: all of it, p95', unit: 'ms' },
    { key: 'doneMaxMs', label: 'to the foreground: all of it, max', unit: 'ms' },
  ],
  ratios: [],
  evaluate: (runs) =>
    [LOOPBACK, MOBILE].map((column) =>
      ratioTarget(
        column,
        TARGET,
        runs.map((_, run) => valueAt(runs, run, column.id, 'doneP95Ms')),
        (p95Ms) => p95Ms <= TARGET_P95_MS,
        ' ms',
      ),
    ),
}

export const appLifecycleStep: Step = {
  ids: ['15'],
  columns: () => [LOOPBACK, MOBILE],
  run: (ctx, column) =>
    withResources(ctx.tmpDir, async (resources) => {
      const timeoutMs = 60_000
      const { lifecycleDocs: docs, lifecycleCycles: cycles } = ctx.sizes
      const [dataDir, agents] = await Promise.all([
        resources.dir('lifecycle'),
        resources.agents('lifecycle', 2),
      ])
      const [app, peer] = agents as [(typeof agents)[0], (typeof agents)[0]]
      const server = await resources.server('weft', dataDir)
      const link = column === MOBILE.id ? await resources.link(server.port, MOBILE_RTT_MS) : null
      const names = Array.from({ length: docs }, (_, index) => `lifecycle/${index}`)
      await sendTrace([peer], ctx.sizes)
      const seedParams: OpenDocsParams = { url: server.url, names, seed: true, timeoutMs }
      await peer.call('lifecycle.open', seedParams)
      const appParams: OpenDocsParams = {
        url: link?.url ?? server.url,
        names,
        backgroundKeepAliveMs: KEEP_ALIVE_MS,
        seed: false,
        timeoutMs,
      }
      const opened = await app.call<{ ms: number; docBytes: number }>('lifecycle.open', appParams)
      const offline: number[] = []
      const back: ForegroundResult[] = []
      for (let cycle = 0; cycle < cycles; cycle++) {
        const edits = (from: number, count: number) => ({
          indices: indicesFrom(from, count, docs),
          cycle,
          timeoutMs,
        })
        offline.push(await app.call<number>('lifecycle.background', edits(3 * cycle, APP_EDITS)))
        const remote = await peer.call<RemoteEdit[]>(
          'lifecycle.remote',
          edits(3 * cycle + APP_EDITS - 1, PEER_EDITS),
        )
        back.push(await app.call<ForegroundResult>('lifecycle.foreground', { remote, timeoutMs }))
      }
      const doneMs = back.map((cycle) => cycle.doneMs)
      ctx.log(`  foreground → done (ms): ${doneMs.map((ms) => ms.toFixed(0)).join(' ')}`)
      const p95Of = (key: keyof ForegroundResult): number =>
        latencySummary(back.map((cycle) => cycle[key])).p95
      const done = latencySummary(doneMs)
      return {
        '15': {
          docBytes: opened.docBytes,
          firstSyncMs: opened.ms,
          offlineMs: median(offline),
          pending: median(back.map((cycle) => cycle.pending)),
          connectedP50Ms: median(back.map((cycle) => cycle.connectedMs)),
          syncedP95Ms: p95Of('syncedMs'),
          savedP95Ms: p95Of('savedMs'),
          receivedP95Ms: p95Of('receivedMs'),
          doneP50Ms: done.p50,
          doneP95Ms: done.p95,
          doneMaxMs: done.max,
        },
      }
    }),
}
