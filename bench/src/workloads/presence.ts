/** Workload 9, presence at scale: many clients over several documents renewing presence every second. */
import type { PresenceClient, PresenceRunResult } from '../agents/roles/presence.js'
import { totalCpuMs } from '../agents/agent.js'
import { cpus } from 'node:os'
import { delay, nowMs } from '../clock.js'
import { CpuWindow, readMemoryMb } from '../proc-metrics.js'
import { SYSTEMS, type SystemId } from '../systems.js'
import { relayStats } from './relay-stats.js'
import { withResources } from './resources.js'
import { everyRunTarget, ratioTarget, valueAt } from './targets.js'
import { ALL_SYSTEMS, systemColumns } from './trace.js'
import type { RunTable, Step, TargetRow, Values, WorkloadSpec } from './types.js'

const RENEW_INTERVAL_MS = 1000
/** Presence settles this long after every client announced itself, before the window opens. */
const SETTLE_MS = 2000
const DRAIN_MS = 5000
const CONCURRENCY_PER_AGENT = 25

export const presenceSpec: WorkloadSpec = {
  id: '9',
  title: 'Presence at scale',
  method: (sizes) => {
    const perDoc = sizes.presenceClients / sizes.presenceDocs
    return (
      `${sizes.presenceClients.toLocaleString('en-US')} clients (each its own socket, spread ` +
      `over ${sizes.presenceAgents} agent processes) on ${sizes.presenceDocs} documents, ` +
      `${perDoc} a document. Each announces an awareness state (a user name and colour, a ` +
      'cursor, a renewal counter; about 100 bytes of JSON) once synced, and then, for ' +
      `${sizes.presenceWindowMs / 1000} s, renews it once a second with the cursor moved, on a ` +
      'fixed schedule staggered across all clients. Every client counts the awareness frames ' +
      'it receives (frames naming at least one client; an awareness update may carry several ' +
      "clients' states) and *echoes*: frames naming its own client id, its own state sent back " +
      'to it (read from the frame, since applying an echo changes nothing). Server CPU, the ' +
      "relay's event-loop delay (its `GET /stats`, reset when the window opens; its figures " +
      'include the 10 ms sampling interval, so a quiet loop shows about 10 ms) and messages per ' +
      `second are over the window; echoes over the whole run. After the window, up to ${DRAIN_MS / 1000} s ` +
      "are allowed for every client's view to hold the last renewal of each of the other " +
      `${perDoc - 1} clients of its document; *complete* is the share that does. The stock ` +
      "y-websocket provider and Hocuspocus's provider send on every awareness change, other " +
      "clients' included, so their clients send back what they receive (Weft's client sends " +
      'only its own state); y-websocket-server and Hocuspocus forward each awareness update ' +
      'to every client of the document, its sender included.'
    )
  },
  metrics: [
    { key: 'connectMs', label: 'time to connect and announce all', unit: 'ms' },
    { key: 'renewalsPerSec', label: 'renewals sent per second, all clients', unit: '/s' },
    {
      key: 'messagesPerClientPerSec',
      label: 'awareness messages received per client per second',
      unit: '/s',
      digits: 1,
    },
    {
      key: 'statesPerClientPerSec',
      label: 'states received per client per second',
      unit: '/s',
      digits: 1,
    },
    { key: 'echoes', label: 'echoes (own state received back), whole run', unit: '' },
    { key: 'echoedClientsPct', label: 'clients that received their own state back', unit: '%' },
    { key: 'latestPct', label: "views complete: others' last renewal held", unit: '%', digits: 2 },
    { key: 'presentPct', label: "views holding the others' states at all", unit: '%', digits: 2 },
    { key: 'completeMs', label: 'last view complete, after the window', unit: 'ms' },
    { key: 'serverCpuPct', label: 'server CPU', unit: '% of a core', digits: 1 },
    { key: 'serverRssMb', label: 'server RSS, end of the window', unit: 'MiB' },
    { key: 'serverPeakRssMb', label: 'server peak RSS', unit: 'MiB' },
    {
      key: 'relayLagP99Ms',
      label: "relay's event-loop delay p99 (its /stats, with its 10 ms sampling interval)",
      unit: 'ms',
      digits: 2,
    },
    { key: 'relayLagMaxMs', label: "relay's event-loop delay max", unit: 'ms', digits: 1 },
    { key: 'clientCpuPct', label: 'client CPU, all agents', unit: '% of a core' },
    { key: 'clientBound', label: 'client-bound (agents used ≥ 75% of all cores)', unit: '' },
  ],
  ratios: ['serverCpuPct'],
  evaluate: (runs, columns) =>
    columns
      .filter((column) => column.weft)
      .flatMap((column): TargetRow[] => {
        const numbers = (key: string): number[] =>
          runs.map((_, run) => valueAt(runs, run, column.id, key))
        return [
          ratioTarget(
            column,
            'relay CPU ≤ 25% of a core',
            numbers('serverCpuPct'),
            (mid) => mid <= 25,
            '% of a core',
          ),
          ratioTarget(
            column,
            'event-loop lag p99 ≤ 20 ms',
            numbers('relayLagP99Ms'),
            (mid) => mid <= 20,
            ' ms',
          ),
          everyRunTarget(
            column,
            'no presence echoed to its sender',
            whether(runs, column.id, 'echoes', (echoes) => echoes === 0),
            'without an echo',
          ),
          everyRunTarget(
            column,
            "every client ends with every other client's last renewal",
            whether(runs, column.id, 'latestPct', (pct) => pct === 100),
            'complete',
          ),
        ]
      }),
}

/** Per run, whether `test` holds for the number `key` (undefined where missing or failed). */
const whether = (
  runs: RunTable,
  column: string,
  key: string,
  test: (value: number) => boolean,
): Array<boolean | undefined> =>
  runs.map((_, run) => {
    const value = valueAt(runs, run, column, key)
    return Number.isNaN(value) ? undefined : test(value)
  })

/** Client c is on document c mod docs and in agent c mod agents. */
const clientsOf = (
  agent: number,
  agents: number,
  clients: number,
  docs: number,
): PresenceClient[] =>
  Array.from({ length: clients }, (_, index) => ({ index, doc: index % docs })).filter(
    (client) => client.index % agents === agent,
  )

const sum = (results: readonly PresenceRunResult[], key: keyof PresenceRunResult): number =>
  results.reduce((total, result) => total + Number(result[key] ?? 0), 0)

export const presenceStep: Step = {
  ids: ['9'],
  columns: (peers) => systemColumns(ALL_SYSTEMS, peers),
  run: (ctx, column) =>
    withResources(ctx.tmpDir, async (resources) => {
      const system = SYSTEMS[column as SystemId]
      const { presenceClients: clients, presenceDocs: docs, presenceWindowMs } = ctx.sizes
      const [server, agents] = await Promise.all([
        resources.server(system.server, await resources.dir('presence')),
        resources.agents('presence', ctx.sizes.presenceAgents),
      ])
      const weft = system.server === 'weft'
      const opened = nowMs()
      await Promise.all(
        agents.map((agent, index) =>
          agent.call('presence.open', {
            kind: system.client,
            url: server.url,
            clients: clientsOf(index, agents.length, clients, docs),
            concurrency: CONCURRENCY_PER_AGENT,
            perClientTimeoutMs: 30_000,
          }),
        ),
      )
      const connectMs = nowMs() - opened
      const startAt = nowMs() + SETTLE_MS
      const running = Promise.all(
        agents.map((agent) =>
          agent.call<PresenceRunResult>('presence.run', {
            startAt,
            windowMs: presenceWindowMs,
            intervalMs: RENEW_INTERVAL_MS,
            totalClients: clients,
            othersPerClient: clients / docs - 1,
            drainMs: DRAIN_MS,
          }),
        ),
      )
      await delay(startAt - nowMs())
      if (weft) await relayStats(server.port, true)
      const serverCpu = new CpuWindow(server.pid)
      const clientCpuBefore = await totalCpuMs(agents)
      const windowStart = nowMs()
      const windowEnd = startAt + presenceWindowMs
      await delay(windowEnd - nowMs())
      const cpu = serverCpu.read()
      const clientCpuMs = (await totalCpuMs(agents)) - clientCpuBefore
      const wallMs = nowMs() - windowStart
      const memory = readMemoryMb(server.pid)
      const own = weft ? await relayStats(server.port) : null
      const results = await running
      const windowSec = presenceWindowMs / 1000
      const expected = sum(results, 'expected')
      const completeAts = results.map((result) => result.completeAt)
      const values: Values = {
        connectMs,
        renewalsPerSec: sum(results, 'renewals') / windowSec,
        messagesPerClientPerSec: sum(results, 'windowFrames') / clients / windowSec,
        statesPerClientPerSec: sum(results, 'windowEntries') / clients / windowSec,
        echoes: sum(results, 'echoes'),
        echoedClientsPct: (100 * sum(results, 'echoedClients')) / clients,
        latestPct: (100 * sum(results, 'latest')) / expected,
        presentPct: (100 * sum(results, 'present')) / expected,
        completeMs: completeAts.includes(null)
          ? null
          : Math.max(0, ...(completeAts as number[]).map((at) => at - windowEnd)),
        serverCpuPct: cpu.cpuPct,
        serverRssMb: memory.rssMb,
        serverPeakRssMb: memory.peakRssMb,
        relayLagP99Ms: own?.eventLoopLagMs.p99 ?? null,
        relayLagMaxMs: own?.eventLoopLagMs.max ?? null,
        clientCpuPct: (100 * clientCpuMs) / wallMs,
        clientBound: clientCpuMs / wallMs >= 0.75 * cpus().length,
      }
      return { '9': values }
    }),
}
