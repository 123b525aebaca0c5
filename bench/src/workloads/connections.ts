/** Workload 8, connections: thousands of idle Weft-dialect connections heartbeating on one relay. */
import { delay, nowMs } from '../clock.js'
import { CpuWindow, readMemoryMb } from '../proc-metrics.js'
import { withResources } from './resources.js'
import { mib, relayStats } from './relay-stats.js'
import { probeRoundTrips } from './rtt-probe.js'
import type { Column, Step, WorkloadSpec } from './types.js'

const COLUMN: Column = { id: 'weft-client', label: 'Weft (Weft client)', weft: true }
/** Relay pings and client pings both every 2 s, so the window sees several heartbeat rounds. */
const HEARTBEAT_MS = 2000
const CLIENTS_PER_AGENT = 1000
const CONCURRENCY_PER_AGENT = 50

export const connectionsSpec: WorkloadSpec = {
  id: '8',
  title: 'Idle connections',
  method: (sizes) =>
    `${sizes.idleConnections.toLocaleString('en-US')} Weft clients (one socket each, no document ` +
    `open) from agent processes of up to ${CLIENTS_PER_AGENT} clients connect to one relay ` +
    `started with \`--heartbeat-interval-ms ${HEARTBEAT_MS}\`; the clients ping every ` +
    `${HEARTBEAT_MS / 1000} s too. Then, for ${sizes.idleWindowMs / 1000} s while they ` +
    "heartbeat, two views of the relay's event loop: its own event-loop delay histogram " +
    '(`GET /stats`, reset at the start of the window; its figures include the 10 ms sampling ' +
    'interval, so a quiet loop shows about 10 ms), and from outside a `GET /healthz` round ' +
    'trip every 20 ms on one kept-alive connection (its baseline with no clients is shown ' +
    'too). RSS per connection is (RSS connected − RSS idle) / connections.',
  metrics: [
    { key: 'connections', label: 'connections', unit: '' },
    { key: 'connectedAtEnd', label: 'still connected after the window', unit: '' },
    { key: 'connectMs', label: 'time to connect all', unit: 'ms' },
    { key: 'rssIdleMb', label: 'relay RSS, idle', unit: 'MiB' },
    { key: 'rssConnectedMb', label: 'relay RSS, all connected', unit: 'MiB' },
    { key: 'kibPerConnection', label: 'RSS per connection', unit: 'KiB', digits: 1 },
    { key: 'baselineP99Ms', label: 'probe round trip p99, no clients', unit: 'ms', digits: 2 },
    { key: 'probeP50Ms', label: 'probe round trip p50, heartbeating', unit: 'ms', digits: 2 },
    {
      key: 'probeP99Ms',
      label: 'probe round trip p99, heartbeating (≈ event-loop lag)',
      unit: 'ms',
      digits: 2,
    },
    { key: 'probeMaxMs', label: 'probe round trip max, heartbeating', unit: 'ms', digits: 1 },
    {
      key: 'serverCpuPct',
      label: 'relay CPU while connected and heartbeating',
      unit: '% of a core',
      digits: 1,
    },
    {
      key: 'relayLagP50Ms',
      label: "relay's event-loop delay p50 (its /stats, with its 10 ms sampling interval)",
      unit: 'ms',
      digits: 2,
    },
    {
      key: 'relayLagP99Ms',
      label: "relay's event-loop delay p99 (its /stats, with its 10 ms sampling interval)",
      unit: 'ms',
      digits: 2,
    },
    {
      key: 'relayLagMaxMs',
      label: "relay's event-loop delay max (its /stats, with its 10 ms sampling interval)",
      unit: 'ms',
      digits: 1,
    },
    { key: 'relayConnections', label: 'connections the relay counts', unit: '' },
    { key: 'heapUsedMb', label: 'relay V8 heap used, all connected', unit: 'MiB' },
    { key: 'serverPeakRssMb', label: 'relay peak RSS', unit: 'MiB' },
  ],
  ratios: [],
  evaluate: () => [
    {
      column: COLUMN.label,
      target: 'none set (RSS per connection and lag are reported)',
      measured: 'see the table',
      met: null,
    },
  ],
}

export const connectionsStep: Step = {
  ids: ['8'],
  columns: () => [COLUMN],
  run: (ctx) =>
    withResources(ctx.tmpDir, async (resources) => {
      const count = ctx.sizes.idleConnections
      const agentCount = Math.max(1, Math.ceil(count / CLIENTS_PER_AGENT))
      const [server, agents] = await Promise.all([
        resources.server('weft', await resources.dir('conns'), {
          heartbeatIntervalMs: HEARTBEAT_MS,
        }),
        resources.agents('conns', agentCount),
      ])
      await delay(1000)
      const rssIdleMb = readMemoryMb(server.pid).rssMb
      const baseline = await probeRoundTrips(server.port, Math.min(2000, ctx.sizes.idleWindowMs))
      const started = nowMs()
      const connects = await Promise.all(
        agents.map((agent, index) =>
          agent.call<{ failed: number }>('idle.connect', {
            url: server.url,
            count: Math.floor(count / agentCount) + (index < count % agentCount ? 1 : 0),
            concurrency: CONCURRENCY_PER_AGENT,
            heartbeatIntervalMs: HEARTBEAT_MS,
            perClientTimeoutMs: 30_000,
          }),
        ),
      )
      const connectMs = nowMs() - started
      const failed = connects.reduce((sum, result) => sum + result.failed, 0)
      await delay(1000)
      await relayStats(server.port, true)
      const serverCpu = new CpuWindow(server.pid)
      const loaded = await probeRoundTrips(server.port, ctx.sizes.idleWindowMs)
      const cpu = serverCpu.read()
      const own = await relayStats(server.port)
      const memory = readMemoryMb(server.pid)
      const counts = await Promise.all(
        agents.map((agent) => agent.call<number>('idle.count', null)),
      )
      const connections = count - failed
      return {
        '8': {
          connections,
          connectedAtEnd: counts.reduce((sum, n) => sum + n, 0),
          connectMs,
          rssIdleMb,
          rssConnectedMb: memory.rssMb,
          kibPerConnection: ((memory.rssMb - rssIdleMb) * 1024) / Math.max(1, connections),
          baselineP99Ms: baseline.p99Ms,
          probeP50Ms: loaded.p50Ms,
          probeP99Ms: loaded.p99Ms,
          probeMaxMs: loaded.maxMs,
          serverCpuPct: cpu.cpuPct,
          relayLagP50Ms: own.eventLoopLagMs.p50,
          relayLagP99Ms: own.eventLoopLagMs.p99,
          relayLagMaxMs: own.eventLoopLagMs.max,
          relayConnections: own.connections,
          heapUsedMb: mib(own.heapUsedBytes),
          serverPeakRssMb: memory.peakRssMb,
        },
      }
    }),
}
