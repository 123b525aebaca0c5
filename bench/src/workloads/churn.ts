/** Workload 10, long-running churn: documents opened, edited and closed continuously; does the relay grow? */
import type { ChurnResult } from '../agents/roles/churn.js'
import { delay, nowMs } from '../clock.js'
import { RELAY_UNLOAD_GRACE_MS, type Sizes } from '../options.js'
import { CpuWindow } from '../proc-metrics.js'
import { latencySummary } from '../stats.js'
import { SYSTEMS } from '../systems.js'
import { relayStats } from './relay-stats.js'
import {
  growthPct,
  meanOver,
  sampleRelay,
  sampleUntil,
  type RelaySample,
  type SampleKey,
} from './relay-samples.js'
import { withResources } from './resources.js'
import { everyRunTarget, flagsOf, ratioTarget, valueAt } from './targets.js'
import type { Column, Step, Values, WorkloadSpec } from './types.js'

const COLUMN: Column = { id: 'weft-client', label: 'Weft (Weft client)', weft: true }
const MAX_IN_FLIGHT_PER_AGENT = 50
/** Unloading may finish this long after the grace period and still count as within it. */
const UNLOAD_SLACK_MS = 5000

/** How the run is cut up: when documents are reopened, warm-up, and the windows compared. */
const phases = (sizes: Sizes): { recycleAfterMs: number; warmupMs: number; windowMs: number } => {
  // Reopened a quarter of the grace period after it unloaded (if the open took no time).
  const recycleAfterMs = 1.25 * sizes.churnUnloadGraceMs
  return {
    recycleAfterMs,
    // Long enough for the loaded rooms to level off and the first reopenings to have begun.
    warmupMs:
      Math.min(0.5, Math.max(0.2, recycleAfterMs / sizes.churnDurationMs)) * sizes.churnDurationMs,
    windowMs: 0.1 * sizes.churnDurationMs,
  }
}

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(1))} s`

export const churnSpec: WorkloadSpec = {
  id: '10',
  title: 'Long-running churn',
  method: (sizes) => {
    const { recycleAfterMs, warmupMs, windowMs } = phases(sizes)
    const grace = sizes.churnUnloadGraceMs
    return (
      `For ${seconds(sizes.churnDurationMs)} (\`--long\`: 10 min), ${sizes.churnDocsPerSec} ` +
      `documents a second from ${sizes.churnAgents} agent process` +
      `${sizes.churnAgents === 1 ? '' : 'es'} on a fixed schedule: each time a fresh Weft ` +
      'client (its own socket) opens a document, waits for synced, inserts a short text, waits ' +
      'for `saved` and closes. Every second document is new; the others (once the run is ' +
      `${seconds(recycleAfterMs)} old) reopen the document opened ${seconds(recycleAfterMs)} ` +
      "before, by then closed for longer than the relay's unload grace, so it is loaded from " +
      'disk again. The relay runs with ' +
      (grace === RELAY_UNLOAD_GRACE_MS
        ? `its default unload grace (${seconds(grace)}). `
        : `\`--unload-grace-ms ${grace}\` (its default is ${seconds(RELAY_UNLOAD_GRACE_MS)}). `) +
      'The harness samples the relay about every second: RSS (VmRSS), open file descriptors ' +
      '(entries of `/proc/<pid>/fd`), and from its `GET /stats` the rooms loaded, the V8 heap ' +
      '(used and committed) and the memory held outside it (external), which say where RSS ' +
      'growth comes from. ' +
      `The first ${seconds(warmupMs)} are warm-up (the loaded rooms level off once the first ` +
      'documents unload); growth compares the mean over the ' +
      `${seconds(windowMs)} after the warm-up with the mean over the last ${seconds(windowMs)}, ` +
      "and the mean RSS of every tenth of the run shows the curve's shape. " +
      "After the last client has closed, the harness polls `/stats` until the relay's loaded " +
      `rooms are 0, for up to the grace period plus ${seconds(UNLOAD_SLACK_MS)}: every ` +
      "document counts as unloaded within its grace when none is left by then. Weft's relay " +
      "with Weft's client only (neither the stock provider nor the peers), and one run " +
      'whatever `--runs` says: it takes minutes.'
    )
  },
  metrics: [
    { key: 'docsDone', label: 'documents opened, edited, saved and closed', unit: '' },
    { key: 'failures', label: 'documents that failed', unit: '' },
    { key: 'recycledPct', label: 'of them reopenings of a closed document', unit: '%' },
    { key: 'docsPerSec', label: 'documents per second', unit: '/s', digits: 1 },
    {
      key: 'lateStarts',
      label: `starts delayed (over ${MAX_IN_FLIGHT_PER_AGENT} in progress)`,
      unit: '',
    },
    { key: 'cycleP50Ms', label: 'open to closed, p50', unit: 'ms', digits: 1 },
    { key: 'cycleP99Ms', label: 'open to closed, p99', unit: 'ms', digits: 1 },
    { key: 'serverCpuPct', label: 'relay CPU', unit: '% of a core', digits: 1 },
    { key: 'roomsLoaded', label: 'rooms loaded, mean after warm-up', unit: '' },
    { key: 'rssByTenthMb', label: 'relay RSS, mean of each tenth of the run', unit: 'MiB' },
    { key: 'rssWarmMb', label: 'relay RSS after warm-up (mean)', unit: 'MiB', digits: 1 },
    { key: 'rssEndMb', label: 'relay RSS at the end (mean)', unit: 'MiB', digits: 1 },
    { key: 'rssGrowthPct', label: 'relay RSS growth after warm-up', unit: '%', digits: 1 },
    {
      key: 'heapGrowthPct',
      label: 'relay V8 heap used, growth after warm-up',
      unit: '%',
      digits: 1,
    },
    {
      key: 'heapTotalGrowthPct',
      label: 'relay V8 heap committed, growth after warm-up',
      unit: '%',
      digits: 1,
    },
    {
      key: 'externalGrowthPct',
      label: 'relay memory outside the V8 heap (external), growth after warm-up',
      unit: '%',
      digits: 1,
    },
    { key: 'fdsWarm', label: 'relay open fds after warm-up (mean)', unit: '', digits: 1 },
    { key: 'fdsEnd', label: 'relay open fds at the end (mean)', unit: '', digits: 1 },
    { key: 'fdsGrowthPct', label: 'relay open fds growth after warm-up', unit: '%', digits: 1 },
    { key: 'unloadedMs', label: 'last room unloaded, after the last close', unit: 'ms' },
    { key: 'roomsAfterGrace', label: 'rooms still loaded after grace + slack', unit: '' },
    { key: 'unloadedInGrace', label: 'every document unloaded within its grace', unit: '' },
    { key: 'rssUnloadedMb', label: 'relay RSS once unloaded', unit: 'MiB', digits: 1 },
    { key: 'fdsUnloaded', label: 'relay open fds once unloaded', unit: '' },
  ],
  ratios: [],
  evaluate: (runs) => {
    const numbers = (key: string): number[] =>
      runs.map((_, run) => valueAt(runs, run, COLUMN.id, key))
    return [
      ratioTarget(
        COLUMN,
        'RSS growth < 5% after warm-up',
        numbers('rssGrowthPct'),
        (mid) => mid < 5,
        '%',
      ),
      ratioTarget(
        COLUMN,
        'fd growth < 5% after warm-up',
        numbers('fdsGrowthPct'),
        (mid) => mid < 5,
        '%',
      ),
      everyRunTarget(
        COLUMN,
        'every document unloaded within its grace period',
        flagsOf(runs, COLUMN.id, 'unloadedInGrace'),
        'all unloaded',
      ),
    ]
  },
}

/** Polls the relay's rooms until none is loaded or `untilMs` (shared clock); when it reached 0. */
const whenUnloaded = async (port: number, untilMs: number): Promise<number | null> => {
  for (;;) {
    if ((await relayStats(port)).rooms === 0) return nowMs()
    if (nowMs() >= untilMs) return null
    await delay(250)
  }
}

/**
 * What the samples say about growth: each figure's mean over the tenth of the run after the
 * warm-up against its mean over the last tenth, and the mean RSS of each tenth (its shape).
 */
const growthFigures = (samples: readonly RelaySample[], startAt: number, sizes: Sizes): Values => {
  const { warmupMs, windowMs } = phases(sizes)
  const warmEnd = startAt + warmupMs
  const end = startAt + sizes.churnDurationMs
  const warm = (key: SampleKey): number => meanOver(samples, key, warmEnd, warmEnd + windowMs)
  const last = (key: SampleKey): number => meanOver(samples, key, end - windowMs, end)
  const growth = (key: SampleKey): number => growthPct(warm(key), last(key))
  const rssByTenth = Array.from({ length: 10 }, (_, k) =>
    meanOver(samples, 'rssMb', startAt + k * windowMs, startAt + (k + 1) * windowMs).toFixed(0),
  )
  return {
    roomsLoaded: meanOver(samples, 'rooms', warmEnd, end),
    rssWarmMb: warm('rssMb'),
    rssEndMb: last('rssMb'),
    rssGrowthPct: growth('rssMb'),
    heapGrowthPct: growth('heapUsedMb'),
    heapTotalGrowthPct: growth('heapTotalMb'),
    externalGrowthPct: growth('externalMb'),
    fdsWarm: warm('fds'),
    fdsEnd: last('fds'),
    fdsGrowthPct: growth('fds'),
    rssByTenthMb: rssByTenth.join(', '),
  }
}

export const churnStep: Step = {
  ids: ['10'],
  maxRuns: 1,
  columns: () => [COLUMN],
  run: (ctx) =>
    withResources(ctx.tmpDir, async (resources) => {
      const { churnAgents, churnDocsPerSec, churnDurationMs, churnUnloadGraceMs } = ctx.sizes
      const { recycleAfterMs } = phases(ctx.sizes)
      const [server, agents] = await Promise.all([
        resources.server(
          'weft',
          await resources.dir('churn'),
          churnUnloadGraceMs === RELAY_UNLOAD_GRACE_MS ? {} : { unloadGraceMs: churnUnloadGraceMs },
        ),
        resources.agents('churn', churnAgents),
      ])
      const startAt = nowMs() + 500
      const running = Promise.all(
        agents.map((agent, index) =>
          agent.call<ChurnResult>(
            'churn.run',
            {
              kind: SYSTEMS['weft-client'].client,
              url: server.url,
              prefix: `churn-${index}-`,
              docsPerSec: churnDocsPerSec / agents.length,
              startAt,
              durationMs: churnDurationMs,
              recycleAfterMs,
              maxInFlight: MAX_IN_FLIGHT_PER_AGENT,
              perDocTimeoutMs: 15_000,
            },
            churnDurationMs + 120_000,
          ),
        ),
      )
      const serverCpu = new CpuWindow(server.pid)
      const everyMs = Math.min(1000, Math.max(100, churnDurationMs / 200))
      const samples = await sampleUntil(server.pid, server.port, everyMs, running)
      const cpu = serverCpu.read()
      const results = await running
      const lastCloseAt = results.reduce((last, result) => Math.max(last, result.lastCloseAt), 0)
      const unloadedAt = await whenUnloaded(
        server.port,
        lastCloseAt + churnUnloadGraceMs + UNLOAD_SLACK_MS,
      )
      const unloaded = await sampleRelay(server.pid, server.port)
      const done = results.reduce((sum, result) => sum + result.done, 0)
      const failures = results.reduce((sum, result) => sum + result.failures, 0)
      const firstFailure = results.find((result) => result.firstFailure !== null)?.firstFailure
      if (firstFailure !== undefined) ctx.log(`churn: ${failures} failed, e.g. ${firstFailure}`)
      const cycles = latencySummary(results.flatMap((result) => result.cycleMs))
      return {
        '10': {
          docsDone: done,
          failures,
          recycledPct:
            (100 * results.reduce((sum, result) => sum + result.recycled, 0)) /
            Math.max(1, done + failures),
          docsPerSec: (1000 * done) / churnDurationMs,
          lateStarts: results.reduce((sum, result) => sum + result.late, 0),
          cycleP50Ms: cycles.p50,
          cycleP99Ms: cycles.p99,
          serverCpuPct: cpu.cpuPct,
          ...growthFigures(samples, startAt, ctx.sizes),
          unloadedMs: unloadedAt === null ? null : unloadedAt - lastCloseAt,
          roomsAfterGrace: unloaded.rooms,
          unloadedInGrace: unloadedAt !== null,
          rssUnloadedMb: unloaded.rssMb,
          fdsUnloaded: unloaded.fds,
        },
      }
    }),
}
