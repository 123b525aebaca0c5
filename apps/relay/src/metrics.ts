/**
 * The relay's Prometheus metrics (prom-client): the relay core reports through RelayMetrics;
 * gauges read the relay and the data directory when `/metrics` is scraped. Process metrics
 * (CPU, memory, event-loop lag, GC) come from prom-client's defaults; the bus's are in
 * bus-metrics.ts, the webhooks' backlog in webhook-metrics.ts, drift (unpersisted updates,
 * uncompacted logs, feed consumers behind) in drift-metrics.ts.
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { FeedConsumer, RelayDrift, RelayMetrics } from '@weft/server'
import type { WebhookEvent } from '@weft/server/webhooks'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { createBusMetrics, type BusMetrics } from './bus-metrics.js'
import { registerDriftGauges, registerFeedConsumerGauges } from './drift-metrics.js'
import {
  registerWebhookGauges,
  type FeedBounds,
  type WebhookBacklogSource,
} from './webhook-metrics.js'

/** What the gauges read at scrape time. */
export interface MetricsSources {
  readonly connections: () => number
  readonly rooms: () => number
  /** The LevelDB directory, or null for the memory store. */
  readonly dataDir: string | null
  /**
   * Whether the bus to the other relays is up now, or null for a relay without one: then no
   * `weft_bus_*` metric is served (an absent `weft_bus_up` means no bus, 0 a bus down).
   */
  readonly busUp: (() => boolean) | null
  /** Whether the relay would take traffic now (its readiness check). Default: no gauge. */
  readonly ready?: () => Promise<boolean>
  /** The collections of the relay's schemas: their conflict counts start at 0. Default none. */
  readonly collections?: readonly string[]
  /** How far loaded documents run ahead of the store (`relay.drift()`). Default: no gauges. */
  readonly drift?: () => RelayDrift
  /** The change feed's HTTP consumers (`relay.feed.consumers.list()`). Default: no gauges. */
  readonly feedConsumers?: () => readonly FeedConsumer[]
}

/** The registry to serve at `/metrics`, and the RelayMetrics that feed it. */
export interface RelayPrometheus {
  readonly registry: Registry
  readonly metrics: RelayMetrics
  /** Counts a webhook delivery's outcome (the dispatcher's `onEvent`). */
  readonly webhook: (event: WebhookEvent) => void
  /** Serves the endpoints' backlog and dead letters of `webhooks`, read at scrape time. */
  readonly watchWebhooks: (feed: FeedBounds, webhooks: WebhookBacklogSource) => void
}

/** The bus hooks of a relay without a bus: never called. */
const NO_BUS: BusMetrics = {
  busMessageOut: () => {},
  busMessageIn: () => {},
  busGap: () => {},
  caughtUp: () => {},
}

/** Latency buckets in seconds: 0.5 ms to 10 s. */
const LATENCY = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10]

/** Total size of the files under `dir` (LevelDB's files are one level deep). */
const directoryBytes = async (dir: string): Promise<number> => {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    total += entry.isDirectory() ? await directoryBytes(path) : (await stat(path)).size
  }
  return total
}

/** Builds the registry; one per relay server. */
export const createRelayPrometheus = (sources: MetricsSources): RelayPrometheus => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const registers = [registry]
  new Gauge({
    name: 'weft_connections',
    help: 'Open WebSocket connections',
    registers,
    collect() {
      this.set(sources.connections())
    },
  })
  new Gauge({
    name: 'weft_rooms_open',
    help: 'Documents loaded or loading',
    registers,
    collect() {
      this.set(sources.rooms())
    },
  })
  const { ready } = sources
  if (ready !== undefined) {
    new Gauge({
      name: 'weft_ready',
      help: 'Whether the relay is ready for traffic (1), as /readyz answers, or not (0)',
      registers,
      async collect() {
        this.set((await ready()) ? 1 : 0)
      },
    })
  }
  if (sources.drift !== undefined) registerDriftGauges(registry, sources.drift)
  if (sources.feedConsumers !== undefined)
    registerFeedConsumerGauges(registry, sources.feedConsumers)
  const dataDir = sources.dataDir
  new Gauge({
    name: 'weft_store_bytes',
    help: 'Bytes of the LevelDB data directory (0 for the memory store)',
    registers,
    async collect() {
      this.set(dataDir === null ? 0 : await directoryBytes(dataDir).catch(() => 0))
    },
  })
  const socketsOpened = new Counter({
    name: 'weft_sockets_opened_total',
    help: 'WebSocket connections accepted, by dialect',
    labelNames: ['dialect'],
    registers,
  })
  const socketsClosed = new Counter({
    name: 'weft_sockets_closed_total',
    help: 'WebSocket connections closed, by close code (1006: dropped)',
    labelNames: ['code'],
    registers,
  })
  const framesIn = new Counter({ name: 'weft_frames_in_total', help: 'Frames received', registers })
  const bytesIn = new Counter({ name: 'weft_bytes_in_total', help: 'Bytes received', registers })
  const framesOut = new Counter({ name: 'weft_frames_out_total', help: 'Frames sent', registers })
  const bytesOut = new Counter({ name: 'weft_bytes_out_total', help: 'Bytes sent', registers })
  const updates = new Counter({
    name: 'weft_updates_applied_total',
    help: 'Yjs updates integrated into documents',
    registers,
  })
  const updateBytes = new Counter({
    name: 'weft_update_bytes_applied_total',
    help: 'Bytes of the Yjs updates integrated',
    registers,
  })
  const writeChecks = new Counter({
    name: 'weft_write_checks_total',
    help: 'Messages whose updates were judged against a scope, a schema or record rules',
    registers,
  })
  const writeCheckSeconds = new Counter({
    name: 'weft_write_check_seconds_total',
    help: 'Time spent judging updates against scopes, schemas and record rules',
    registers,
  })
  const fanout = new Histogram({
    name: 'weft_fanout_seconds',
    help: 'From receiving an update to sending it to the other peers of its document',
    buckets: LATENCY,
    registers,
  })
  const persistSeconds = new Histogram({
    name: 'weft_persist_seconds',
    help: 'Time for one append (group commit) to become durable',
    buckets: LATENCY,
    registers,
  })
  const persistEntries = new Histogram({
    name: 'weft_persist_batch_entries',
    help: 'Log entries per append',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024],
    registers,
  })
  const persistBytes = new Counter({
    name: 'weft_persist_bytes_total',
    help: 'Bytes of updates appended to the store',
    registers,
  })
  const ackSeconds = new Histogram({
    name: 'weft_ack_seconds',
    help: 'From receiving an edit to sending its saved (durable on disk)',
    buckets: LATENCY,
    registers,
  })
  const refusals = new Counter({
    name: 'weft_refusals_total',
    help: 'Updates, documents and sockets refused, by error code and scope',
    labelNames: ['code', 'scope'],
    registers,
  })
  const authFailures = new Counter({
    name: 'weft_auth_failures_total',
    help: 'Tokens refused (missing, invalid, expired, revoked)',
    registers,
  })
  const upgradesRefused = new Counter({
    name: 'weft_upgrades_refused_total',
    help: 'WebSocket upgrades refused before the handshake, by HTTP status',
    labelNames: ['status'],
    registers,
  })
  const slowConsumers = new Counter({
    name: 'weft_slow_consumers_total',
    help: 'Sockets closed because too much waited to be sent to them',
    registers,
  })
  const throttles = new Counter({
    name: 'weft_socket_throttles_total',
    help: 'Times a socket sent faster than its rate limits and the relay paused reading it',
    registers,
  })
  const compactions = new Counter({
    name: 'weft_compactions_total',
    help: 'Compactions of a document log into its snapshot, by result',
    labelNames: ['result'],
    registers,
  })
  // Served from the start, so a first failure is an increase the alert rules see.
  for (const result of ['ok', 'failed']) compactions.inc({ result }, 0)
  const compactionSeconds = new Histogram({
    name: 'weft_compaction_seconds',
    help: 'Duration of compactions',
    buckets: LATENCY,
    registers,
  })
  const storageFailures = new Counter({
    name: 'weft_storage_failures_total',
    help: 'Appends the store refused (disk full, I/O error); their documents were closed',
    registers,
  })
  const conflicts = new Counter({
    name: 'weft_conflicts_total',
    help: 'Conflicts on record fields opened (concurrent writes) and resolved, by collection',
    labelNames: ['collection', 'change'],
    registers,
  })
  for (const collection of new Set(sources.collections ?? []))
    for (const change of ['opened', 'resolved']) conflicts.inc({ collection, change }, 0)
  const repairSyncs = new Counter({
    name: 'weft_repair_syncs_total',
    help: 'Documents a client opened again to repair its copy: full (it asked for the whole state after a refused edit) or resync (after a lost update)',
    labelNames: ['kind'],
    registers,
  })
  for (const kind of ['full', 'resync']) repairSyncs.inc({ kind }, 0)
  const bus = sources.busUp === null ? NO_BUS : createBusMetrics(registry, sources.busUp)
  const metrics: RelayMetrics = {
    ...bus,
    socketOpened: (dialect) => socketsOpened.inc({ dialect }),
    socketClosed: (code) => socketsClosed.inc({ code: String(code) }),
    frameIn: (bytes) => {
      framesIn.inc()
      bytesIn.inc(bytes)
    },
    frameOut: (bytes) => {
      framesOut.inc()
      bytesOut.inc(bytes)
    },
    updatesApplied: (count, bytes) => {
      updates.inc(count)
      updateBytes.inc(bytes)
    },
    writeChecked: (seconds) => {
      writeChecks.inc()
      writeCheckSeconds.inc(seconds)
    },
    fannedOut: (seconds, peers) => {
      if (peers > 0) fanout.observe(seconds)
    },
    persisted: (entries, bytes, seconds) => {
      persistEntries.observe(entries)
      persistBytes.inc(bytes)
      persistSeconds.observe(seconds)
    },
    acknowledged: (seconds) => ackSeconds.observe(seconds),
    refused: (code, scope) => {
      refusals.inc({ code, scope })
      if (code === 'UNAUTHORIZED') authFailures.inc()
    },
    conflict: (change, collection) => conflicts.inc({ collection, change }),
    repairSync: (full) => repairSyncs.inc({ kind: full ? 'full' : 'resync' }),
    upgradeRefused: (status) => upgradesRefused.inc({ status: String(status) }),
    slowConsumer: () => slowConsumers.inc(),
    socketThrottled: () => throttles.inc(),
    storageFailed: () => storageFailures.inc(),
    compacted: (seconds, ok) => {
      compactions.inc({ result: ok ? 'ok' : 'failed' })
      compactionSeconds.observe(seconds)
    },
  }
  const deliveries = new Counter({
    name: 'weft_webhook_deliveries_total',
    help: 'Webhook delivery attempts by endpoint and outcome (delivered, failed, dead-lettered, replayed)',
    labelNames: ['endpoint', 'outcome'],
    registers,
  })
  const deliveredEvents = new Counter({
    name: 'weft_webhook_events_total',
    help: 'Change-feed events in webhook deliveries by endpoint and outcome',
    labelNames: ['endpoint', 'outcome'],
    registers,
  })
  const deliverySeconds = new Histogram({
    name: 'weft_webhook_delivery_seconds',
    help: 'Time from posting a webhook delivery to its answer (or failure)',
    labelNames: ['endpoint'],
    buckets: LATENCY,
    registers,
  })
  const webhook = (event: WebhookEvent): void => {
    const labels = { endpoint: event.endpoint, outcome: event.type }
    deliveries.inc(labels)
    deliveredEvents.inc(labels, event.events)
    if (event.type !== 'replayed')
      deliverySeconds.observe({ endpoint: event.endpoint }, event.seconds)
  }
  const watchWebhooks = (feed: FeedBounds, webhooks: WebhookBacklogSource): void =>
    registerWebhookGauges(registry, feed, webhooks)
  return { registry, metrics, webhook, watchWebhooks }
}
