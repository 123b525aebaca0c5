/** ClientMetrics: a client's signals, counted for `client.metrics()` and handed to `onMetric`. */
import type { ErrorCode } from '@weft/protocol'
import type { Clock } from './clock.js'

/** How a metric aggregates: a sum of increments, a distribution of values, or a current value. */
export type MetricKind = 'counter' | 'histogram' | 'gauge'

/** Each metric the client reports, with its kind and unit (UCUM: `ms`, `By` bytes, `1` a count). */
export const CLIENT_METRICS = {
  /** Time from sending the oldest edit a `saved` settles to that `saved` (one per `saved`). */
  'weft.client.ack_latency': { kind: 'histogram', unit: 'ms' },
  /** A reconnect was scheduled (as the `retry` event). */
  'weft.client.retries': { kind: 'counter', unit: '1' },
  /** A connection was established after an earlier one (as `connected` with `reconnect`). */
  'weft.client.reconnects': { kind: 'counter', unit: '1' },
  /** On each reconnect: how long the client was without a connection. */
  'weft.client.offline_duration': { kind: 'histogram', unit: 'ms' },
  /** Bytes of each frame written to the socket (compressed and chunked frames as written). */
  'weft.client.bytes_sent': { kind: 'counter', unit: 'By' },
  /** Bytes of each frame read from the socket. */
  'weft.client.bytes_received': { kind: 'counter', unit: 'By' },
  /** An edit the relay will never store (a `RejectedEdit`), by `code`. */
  'weft.client.refusals': { kind: 'counter', unit: '1' },
  /** A conflict another writer opened or resolved (see `trackConflicts`), by `collection` and `change`. */
  'weft.client.conflicts': { kind: 'counter', unit: '1' },
  /** Local edits waiting for the relay, over every open document. */
  'weft.client.pending_edits': { kind: 'gauge', unit: '1' },
  /** Age of the oldest edit waiting for the relay (0 when none waits). */
  'weft.client.pending_age': { kind: 'gauge', unit: 'ms' },
} as const satisfies Record<string, { kind: MetricKind; unit: string }>

/** The name of a client metric (see {@link CLIENT_METRICS}). */
export type MetricName = keyof typeof CLIENT_METRICS

/** Attributes of a sample: few values each (codes, collection names), never free text. */
export type MetricAttributes = Readonly<Record<string, string | boolean>>

/** One observation, handed to `onMetric` as it happens. */
export interface MetricSample {
  readonly name: MetricName
  readonly kind: MetricKind
  /** `ms`, `By` (bytes) or `1` (a count). */
  readonly unit: string
  /** A counter's increment, a histogram's value, or a gauge's current value. */
  readonly value: number
  readonly attributes: MetricAttributes
}

/** Receives every sample; see `ClientOptions.onMetric`. */
export type MetricHook = (sample: MetricSample) => void

/** What {@link WeftClient.metrics} returns: totals since the client was created. */
export interface ClientMetricsSnapshot {
  /** Connections established (`welcome` received), the first one included. */
  readonly connects: number
  /** Connections established after an earlier one. */
  readonly reconnects: number
  /** Reconnects scheduled (`retry` events). */
  readonly retries: number
  readonly bytesSent: number
  readonly bytesReceived: number
  /** `saved` events: acknowledgements that settled local edits. */
  readonly saved: number
  /** Of those with a latency: how many, their sum and their largest (ms). */
  readonly ackLatencyMs: { readonly count: number; readonly sum: number; readonly max: number }
  /** Refused edits (`RejectedEdit`s), in all and by code. */
  readonly refusals: number
  readonly refusalsByCode: Readonly<Partial<Record<ErrorCode, number>>>
  /** Conflicts other writers opened and resolved, in documents followed with `trackConflicts`. */
  readonly conflictsOpened: number
  readonly conflictsResolved: number
  /** Local edits waiting for the relay now, over every open document. */
  readonly pending: number
  /** When the oldest of them was made (ms since the epoch), or `null`. */
  readonly oldestPendingAt: number | null
  /** Calls of `onMetric` that threw (the sample is dropped; syncing goes on). */
  readonly hookErrors: number
}

/** What the client tells {@link WeftClient}'s `connected` event. */
export interface ConnectedEvent {
  /** An earlier connection of this client was established. */
  readonly reconnect: boolean
  /** Time since that connection went away (ms); `null` on the first connection. */
  readonly offlineMs: number | null
  /** The `retry` attempt that connected (as in `retry` events); 0 when no retry was scheduled. */
  readonly attempt: number
}

/** The documents' edits waiting, as the client sees them. */
export interface PendingSource {
  pending(): { readonly pending: number; readonly oldestPendingAt: number | null }
}

/** While edits wait, the pending gauges are also sampled this often (ms). */
export const PENDING_SAMPLE_INTERVAL_MS = 5_000

/** Options of {@link ClientMetrics}. */
export interface ClientMetricsOptions {
  readonly hook: MetricHook | null
  /** Times offline durations, dates pending edits and runs the pending gauges' timer. */
  readonly clock: Clock
  readonly pending: PendingSource
  /** Add a `doc` attribute to document samples (unbounded: one value per document). */
  readonly docNames: boolean
}

/**
 * A client's counters and its hook. Every signal goes through one method here, which counts it
 * for the snapshot and hands it to the hook; a hook that throws is counted, never rethrown, so
 * an app's telemetry cannot break syncing. The pending gauges run a timer only while edits wait.
 */
export class ClientMetrics {
  readonly #hook: MetricHook | null
  readonly #clock: Clock
  readonly #source: PendingSource
  readonly #docNames: boolean
  #connects = 0
  #reconnects = 0
  #retries = 0
  #bytesSent = 0
  #bytesReceived = 0
  #saved = 0
  readonly #latency = { count: 0, sum: 0, max: 0 }
  #refusals = 0
  readonly #refusalsByCode: Partial<Record<ErrorCode, number>> = {}
  #conflictsOpened = 0
  #conflictsResolved = 0
  #hookErrors = 0
  /** When the last connection went away (monotonic ms); `null` before the first one ended. */
  #downAtMs: number | null = null
  #lastAttempt = 0
  #timer: unknown = null
  #stopped = false

  constructor(options: ClientMetricsOptions) {
    this.#hook = options.hook
    this.#clock = options.clock
    this.#source = options.pending
    this.#docNames = options.docNames
  }

  /** Totals so far, and the edits waiting now. */
  snapshot(): ClientMetricsSnapshot {
    const { pending, oldestPendingAt } = this.#source.pending()
    return {
      connects: this.#connects,
      reconnects: this.#reconnects,
      retries: this.#retries,
      bytesSent: this.#bytesSent,
      bytesReceived: this.#bytesReceived,
      saved: this.#saved,
      ackLatencyMs: { ...this.#latency },
      refusals: this.#refusals,
      refusalsByCode: { ...this.#refusalsByCode },
      conflictsOpened: this.#conflictsOpened,
      conflictsResolved: this.#conflictsResolved,
      pending,
      oldestPendingAt,
      hookErrors: this.#hookErrors,
    }
  }

  /** A connection was established; returns what the `connected` event says. */
  connected(): ConnectedEvent {
    const reconnect = this.#connects > 0
    const offlineMs =
      this.#downAtMs === null ? null : Math.max(0, this.#clock.now() - this.#downAtMs)
    const event = { reconnect, offlineMs, attempt: this.#lastAttempt }
    this.#connects += 1
    this.#downAtMs = null
    this.#lastAttempt = 0
    if (reconnect) {
      this.#reconnects += 1
      this.#record('weft.client.reconnects', 1, {})
      if (offlineMs !== null) this.#record('weft.client.offline_duration', offlineMs, {})
    }
    return event
  }

  /** The established connection went away. */
  down(): void {
    this.#downAtMs = this.#clock.now()
  }

  /** A reconnect was scheduled, as retry `attempt`. */
  retried(attempt: number): void {
    this.#retries += 1
    this.#lastAttempt = attempt
    this.#record('weft.client.retries', 1, {})
  }

  /** A frame of `bytes` was written to the socket. */
  sent(bytes: number): void {
    this.#bytesSent += bytes
    this.#record('weft.client.bytes_sent', bytes, {})
  }

  /** A frame of `bytes` was read from the socket. */
  received(bytes: number): void {
    this.#bytesReceived += bytes
    this.#record('weft.client.bytes_received', bytes, {})
  }

  /** `doc`'s edits were reported saved, `latencyMs` after the oldest was sent (or `null`). */
  saved(doc: string, latencyMs: number | null): void {
    this.#saved += 1
    if (latencyMs === null) return
    const latency = this.#latency
    latency.count += 1
    latency.sum += latencyMs
    latency.max = Math.max(latency.max, latencyMs)
    this.#record('weft.client.ack_latency', latencyMs, this.#docAttributes(doc, {}))
  }

  /** An edit of `doc` was refused with `code`. */
  refused(doc: string, code: ErrorCode): void {
    this.#refusals += 1
    this.#refusalsByCode[code] = (this.#refusalsByCode[code] ?? 0) + 1
    this.#record('weft.client.refusals', 1, this.#docAttributes(doc, { code }))
  }

  /** Another writer opened or resolved a conflict in `collection` of `doc`. */
  conflict(doc: string, collection: string, change: 'opened' | 'resolved'): void {
    if (change === 'opened') this.#conflictsOpened += 1
    else this.#conflictsResolved += 1
    this.#record('weft.client.conflicts', 1, this.#docAttributes(doc, { collection, change }))
  }

  /**
   * The edits waiting changed (or a document closed): samples the pending gauges, and keeps
   * sampling them every {@link PENDING_SAMPLE_INTERVAL_MS} while any edit waits.
   */
  pendingChanged(): void {
    if (this.#stopped) return
    const { pending, oldestPendingAt } = this.#source.pending()
    const ageMs =
      oldestPendingAt === null ? 0 : Math.max(0, this.#clock.wallNow() - oldestPendingAt)
    this.#record('weft.client.pending_edits', pending, {})
    this.#record('weft.client.pending_age', ageMs, {})
    if (pending === 0) return this.#clearTimer()
    if (this.#timer !== null) return
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null
      this.pendingChanged()
    }, PENDING_SAMPLE_INTERVAL_MS)
  }

  /** The client closed: no more timers. */
  stop(): void {
    this.#stopped = true
    this.#clearTimer()
  }

  #clearTimer(): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer)
    this.#timer = null
  }

  #docAttributes(doc: string, attributes: Record<string, string>): MetricAttributes {
    return this.#docNames ? { ...attributes, doc } : attributes
  }

  #record(name: MetricName, value: number, attributes: MetricAttributes): void {
    const hook = this.#hook
    if (hook === null) return
    const { kind, unit } = CLIENT_METRICS[name]
    try {
      hook({ name, kind, unit, value, attributes })
    } catch {
      this.#hookErrors += 1
    }
  }
}
