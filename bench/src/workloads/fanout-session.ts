/**
 * The fan-out run shared by workloads 5, 5b and 11: clients of one document spread over one or
 * more servers edit on a fixed schedule; arrivals, server and client CPU are measured.
 */
import { cpus } from 'node:os'
import { totalCpuMs, type Agent } from '../agents/agent.js'
import type { FanoutRunResult } from '../agents/roles/fanout.js'
import { nowMs } from '../clock.js'
import { CpuWindow, readMemoryMb, readTreeCpuMs } from '../proc-metrics.js'
import type { ServerProcess } from '../servers/start-server.js'
import type { ClientKind } from '../systems.js'
import { fanoutFigures, type FanoutFigures } from './fanout-latency.js'
import { histogramQuantileMs, relayHistogram, relayStats } from './relay-stats.js'
import type { StepContext } from './types.js'

/** The relay's histogram of the time from receiving an update to sending it on. */
const FANOUT_METRIC = 'weft_fanout_seconds'

/** How long stragglers are waited for after the last scheduled edit. */
const DRAIN_MS = 10_000

/** One fan-out run's figures; server figures add up (CPU, RSS) or take the worst (lag) over servers. */
export interface FanoutMeasures extends FanoutFigures {
  readonly serverCpuPct: number
  readonly serverPeakRssMb: number
  readonly relayLagP99Ms: number | null
  readonly relayLagMaxMs: number | null
  readonly relayFanoutP99Ms: number | null
  readonly clientCpuPct: number
  readonly clientBound: boolean
  /** CPU of the `sidecarPids` process trees over the same window, when there are any. */
  readonly sidecarCpuPct?: number
}

/** What one fan-out run uses: running servers and agents, and the client and rate. */
export interface FanoutSetup {
  /** Client `c` connects to `servers[c % servers.length]`, so they share the clients evenly. */
  readonly servers: readonly ServerProcess[]
  readonly agents: readonly Agent[]
  readonly client: ClientKind
  readonly ratePerSec: number
  /** Other processes the servers rely on (PostgreSQL): their trees' CPU is measured too. */
  readonly sidecarPids?: readonly number[]
}

/** The largest of the known values, or null when none is known. */
const worst = (values: ReadonlyArray<number | null>): number | null => {
  let largest: number | null = null
  for (const value of values) {
    if (value !== null && (largest === null || value > largest)) largest = value
  }
  return largest
}

/**
 * Opens `ctx.sizes.fanoutClients` clients on document `fanout` (agent i holds clients i,
 * i + agents, …), lets each edit `fanoutDurationMs` long at `ratePerSec`, and measures.
 */
export const runFanout = async (ctx: StepContext, setup: FanoutSetup): Promise<FanoutMeasures> => {
  const { servers, agents, client, ratePerSec, sidecarPids = [] } = setup
  const { fanoutClients: clients, fanoutDurationMs } = ctx.sizes
  const editsPerClient = Math.round((ratePerSec * fanoutDurationMs) / 1000)
  const ids = await Promise.all(
    agents.map((agent, index) => {
      const own = Array.from({ length: clients }, (_, c) => c).filter(
        (c) => c % agents.length === index,
      )
      return agent.call<number[]>('fanout.open', {
        kind: client,
        urls: own.map((c) => servers[c % servers.length]!.url),
        name: 'fanout',
        clients: own,
        totalClients: clients,
        editsPerClient,
        timeoutMs: 60_000,
      })
    }),
  )
  // Yjs client id → global client index (agent i holds clients i, i + agents, …).
  const clientIndex = new Map(
    ids.flatMap((agentIds, index) =>
      agentIds.map((clientId, slot) => [clientId, index + slot * agents.length] as const),
    ),
  )
  const relays = servers.filter((server) => server.kind === 'weft')
  await Promise.all(relays.map((relay) => relayStats(relay.port, true)))
  const fanoutBefore = await Promise.all(
    relays.map((relay) => relayHistogram(relay.port, FANOUT_METRIC)),
  )
  const serverCpu = servers.map((server) => new CpuWindow(server.pid))
  const sidecarCpuBefore = sidecarCpuMs(sidecarPids)
  const clientCpuBefore = await totalCpuMs(agents)
  const startedAt = nowMs()
  const results = await Promise.all(
    agents.map((agent) =>
      agent.call<FanoutRunResult>('fanout.run', {
        startAt: startedAt + 500,
        intervalMs: 1000 / ratePerSec,
        drainMs: DRAIN_MS,
        seed: ctx.runIndex + 1,
        clientIndex,
      }),
    ),
  )
  const wallMs = nowMs() - startedAt
  const sidecarCpuPct = (100 * (sidecarCpuMs(sidecarPids) - sidecarCpuBefore)) / wallMs
  const clientCpuMs = (await totalCpuMs(agents)) - clientCpuBefore
  const own = await Promise.all(relays.map((relay) => relayStats(relay.port)))
  const fanoutAfter = await Promise.all(
    relays.map((relay) => relayHistogram(relay.port, FANOUT_METRIC)),
  )
  const weft = relays.length > 0
  return {
    ...fanoutFigures(results, clients, editsPerClient),
    serverCpuPct: serverCpu.reduce((sum, window) => sum + window.read().cpuPct, 0),
    serverPeakRssMb: servers.reduce((sum, server) => sum + readMemoryMb(server.pid).peakRssMb, 0),
    relayLagP99Ms: weft ? worst(own.map((stats) => stats.eventLoopLagMs.p99)) : null,
    relayLagMaxMs: weft ? worst(own.map((stats) => stats.eventLoopLagMs.max)) : null,
    relayFanoutP99Ms: weft
      ? worst(
          fanoutAfter.map((after, index) => histogramQuantileMs(fanoutBefore[index]!, after, 0.99)),
        )
      : null,
    clientCpuPct: (100 * clientCpuMs) / wallMs,
    clientBound: clientCpuMs / wallMs >= 0.75 * cpus().length,
    ...(sidecarPids.length === 0 ? {} : { sidecarCpuPct }),
  }
}

const sidecarCpuMs = (pids: readonly number[]): number =>
  pids.reduce((sum, pid) => sum + readTreeCpuMs(pid), 0)
