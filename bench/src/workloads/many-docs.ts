/** Workload 6, many documents: one client per document, one edit each; rooms must unload. */
import type { ManyDocsResult } from '../agents/roles/many-docs.js'
import { totalCpuMs } from '../agents/agent.js'
import { delay } from '../clock.js'
import { CpuWindow, readMemoryMb } from '../proc-metrics.js'
import { SYSTEMS, type SystemId } from '../systems.js'
import { mib, relayStats, type RelayStats } from './relay-stats.js'
import { withResources } from './resources.js'
import { bestPeerPerRun, everyRunTarget, needsPeers, ratioTarget, valueAt } from './targets.js'
import { ALL_SYSTEMS, systemColumns } from './trace.js'
import type { Step, TargetRow, WorkloadSpec } from './types.js'

/** Weft's relay keeps an empty room this long (its default is 30 s); peers unload at once. */
const UNLOAD_GRACE_MS = 1000
const AGENTS = 2
const CONCURRENCY_PER_AGENT = 25
const VERIFY_SAMPLE = 20

export const manyDocsSpec: WorkloadSpec = {
  id: '6',
  title: 'Many documents',
  method: (sizes) =>
    `${sizes.manyDocs.toLocaleString('en-US')} documents, one client (own socket) each, from ` +
    `${AGENTS} agent processes with ${CONCURRENCY_PER_AGENT} documents in progress per agent: ` +
    'open, wait for synced, insert one short text, wait until the server confirmed it ' +
    "(Weft client: `saved`; Hocuspocus: its provider's acknowledgement; y-websocket: send " +
    'buffer empty), stay connected. *Documents per second* counts from the first open to the ' +
    'last confirmation. Server RSS (VmRSS) is read when idle before any client (baseline), ' +
    `when every client is connected, and ${(UNLOAD_GRACE_MS + sizes.unloadSettleMs) / 1000} s after the ` +
    `last client left (Weft's relay runs with \`--unload-grace-ms ${UNLOAD_GRACE_MS}\`; the ` +
    `peers unload a document when its last client leaves). Then ${VERIFY_SAMPLE} documents are ` +
    "opened with fresh clients to check that their edit is there. For Weft, the relay's own " +
    '`GET /stats` adds the rooms it holds and its V8 heap.',
  metrics: [
    { key: 'docsPerSec', label: 'documents per second', unit: '/s' },
    { key: 'failures', label: 'documents that failed', unit: '' },
    { key: 'rssIdleMb', label: 'server RSS, idle baseline', unit: 'MiB' },
    { key: 'rssOpenMb', label: 'server RSS, all clients connected', unit: 'MiB' },
    { key: 'rssAfterMb', label: 'server RSS, after all left', unit: 'MiB' },
    { key: 'afterVsIdlePct', label: 'after-leave RSS over baseline', unit: '%', digits: 1 },
    { key: 'roomsOpen', label: 'rooms the relay holds, all connected (Weft)', unit: '' },
    { key: 'roomsAfter', label: 'rooms the relay holds, after all left (Weft)', unit: '' },
    { key: 'heapIdleMb', label: 'relay V8 heap used, idle (Weft)', unit: 'MiB' },
    { key: 'heapAfterMb', label: 'relay V8 heap used, after all left (Weft)', unit: 'MiB' },
    { key: 'verifiedPct', label: 'sampled documents holding their edit', unit: '%' },
    { key: 'serverCpuMs', label: 'server CPU while opening', unit: 'ms' },
    { key: 'clientCpuMs', label: 'client CPU while opening', unit: 'ms' },
  ],
  ratios: ['docsPerSec'],
  evaluate: (runs, columns) => {
    const best = bestPeerPerRun(runs, columns, 'docsPerSec', 'higher')
    const hasPeers = columns.some((column) => !column.weft)
    return columns
      .filter((column) => column.weft)
      .flatMap((column): TargetRow[] => {
        const target = '≥ 2× the faster peer (documents/s)'
        const ratios = runs.map(
          (_, run) => valueAt(runs, run, column.id, 'docsPerSec') / best[run]!,
        )
        const unloaded = runs.map((_, run) => {
          const pct = valueAt(runs, run, column.id, 'afterVsIdlePct')
          return Number.isNaN(pct) ? undefined : pct <= 15
        })
        return [
          hasPeers
            ? ratioTarget(column, target, ratios, (mid) => mid >= 2)
            : needsPeers(column, target),
          everyRunTarget(
            column,
            'RSS after everyone leaves within 15% of idle',
            unloaded,
            'within 15%',
          ),
        ]
      })
  },
}

export const manyDocsStep: Step = {
  ids: ['6'],
  columns: (peers) => systemColumns(ALL_SYSTEMS, peers),
  run: (ctx, column) =>
    withResources(ctx.tmpDir, async (resources) => {
      const system = SYSTEMS[column as SystemId]
      const count = ctx.sizes.manyDocs
      const names = Array.from({ length: count }, (_, i) => `doc-${String(i).padStart(5, '0')}`)
      const [server, agents] = await Promise.all([
        resources.server(system.server, await resources.dir('docs'), {
          unloadGraceMs: UNLOAD_GRACE_MS,
        }),
        resources.agents('docs', AGENTS),
      ])
      await delay(1000)
      const rssIdleMb = readMemoryMb(server.pid).rssMb
      // Weft's relay also says how many rooms it holds and how much heap it uses.
      const own = (): Promise<RelayStats | null> =>
        system.server === 'weft' ? relayStats(server.port) : Promise.resolve(null)
      const idleStats = await own()
      const serverCpu = new CpuWindow(server.pid)
      const clientCpuBefore = await totalCpuMs(agents)
      const results = await Promise.all(
        agents.map((agent, index) =>
          agent.call<ManyDocsResult>('manyDocs.run', {
            kind: system.client,
            url: server.url,
            names: names.filter((_, i) => i % agents.length === index),
            concurrency: CONCURRENCY_PER_AGENT,
            perDocTimeoutMs: 30_000,
          }),
        ),
      )
      const serverCpuMs = serverCpu.read().cpuMs
      const clientCpuMs = (await totalCpuMs(agents)) - clientCpuBefore
      const spanMs =
        Math.max(...results.map((r) => r.doneAt)) - Math.min(...results.map((r) => r.startAt))
      const done = results.reduce((sum, r) => sum + r.done, 0)
      const rssOpenMb = readMemoryMb(server.pid).rssMb
      const openStats = await own()
      await Promise.all(agents.map((agent) => agent.call('manyDocs.closeAll', null)))
      await delay(UNLOAD_GRACE_MS + ctx.sizes.unloadSettleMs)
      const rssAfterMb = readMemoryMb(server.pid).rssMb
      const afterStats = await own()
      const step = Math.max(1, Math.floor(count / VERIFY_SAMPLE))
      const sample = names.filter((_, i) => i % step === 0).slice(0, VERIFY_SAMPLE)
      const verified = await agents[0]!.call<number>('manyDocs.verify', {
        kind: system.client,
        url: server.url,
        names: sample,
        timeoutMs: 10_000,
      })
      const failures = results.flatMap((r) => r.failures)
      if (failures.length > 0)
        ctx.log(`${system.label}: ${failures.length} failed, e.g. ${failures[0]}`)
      return {
        '6': {
          docsPerSec: (1000 * done) / spanMs,
          failures: failures.length,
          rssIdleMb,
          rssOpenMb,
          rssAfterMb,
          afterVsIdlePct: (100 * (rssAfterMb - rssIdleMb)) / rssIdleMb,
          roomsOpen: openStats?.rooms ?? null,
          roomsAfter: afterStats?.rooms ?? null,
          heapIdleMb: idleStats === null ? null : mib(idleStats.heapUsedBytes),
          heapAfterMb: afterStats === null ? null : mib(afterStats.heapUsedBytes),
          verifiedPct: (100 * verified) / sample.length,
          serverCpuMs,
          clientCpuMs,
        },
      }
    }),
}
