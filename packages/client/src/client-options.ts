/** ClientOptions: what createClient accepts, its defaults, and their validation. */
import { DEFAULT_COMPRESS_FROM_BYTES, WeftError } from '@weft/protocol'
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js'
import { isClock, systemClock, type Clock } from './clock.js'
import { resolveTracing, type TracingOption } from './client-tracing.js'
import type { Tracer } from '@opentelemetry/api'
import type { MetricHook } from './client-metrics.js'
import type { OutboxLimits } from './outbox-watch.js'
import { resolveOutboxCompaction, type OutboxCompaction } from './outbox-compaction.js'
import type { LocalStore } from './local-store.js'
import { MemoryLocalStore } from './memory-local-store.js'
import { browserNetworkHints, type NetworkHints } from './network-hints.js'
import type { TabChannelConstructor, TabLocks } from './tab-messages.js'

/** A WebSocket constructor: the browsers' global, `WebSocket` from the `ws` package in Node, React Native's. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike

/** A handler the client sets on its socket; each implementation passes its own event objects. */
type SocketHandler = ((event: never) => void) | null

/**
 * What the client uses of a WebSocket. The browser's `WebSocket`, Node's `ws` and React Native's
 * fit as they are.
 */
export interface WebSocketLike {
  binaryType: string
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
  onopen: SocketHandler
  onmessage: SocketHandler
  onclose: SocketHandler
  onerror: SocketHandler
}

/** A token, or a function that returns a fresh one (called on every connect and refresh). */
export type TokenSource = string | (() => string | Promise<string>)

/** Options of {@link createClient}. Durations are milliseconds. */
export interface ClientOptions {
  /** Relay URL, `ws://` or `wss://`. Required. */
  url: string
  /** Bearer token sent in `hello`. Default: none. */
  token?: TokenSource
  /**
   * With `token` a function returning JWTs: how long before a token's `exp` the client asks for
   * a fresh one and sends it on the open socket (`refresh-token`), with no gap in sync. Default:
   * a tenth of the token's lifetime, at most 60,000; never before half its lifetime. A failed
   * refresh is tried again with backoff until the token expires. Tokens that are not JWTs with
   * `exp` are not refreshed by themselves. `null` turns automatic refresh off.
   */
  tokenRefreshMarginMs?: number | null
  /** WebSocket implementation. Default: `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor
  /** Written on every relay log line about this client. Default: a random UUID. */
  correlationId?: string
  /** Name and version sent in `hello`, for relay logs. Default `weft-client`. */
  clientName?: string
  /** Reconnection backoff. Defaults in {@link DEFAULT_BACKOFF}. */
  backoff?: Partial<BackoffOptions>
  /** Interval of protocol pings while connected. Default 15,000. */
  heartbeatIntervalMs?: number
  /** A connection silent this long after a ping is dropped and reconnected. Default 10,000. */
  heartbeatTimeoutMs?: number
  /** Time to open the socket and get `welcome`; a slower relay is treated as down. Default 15,000. */
  connectTimeoutMs?: number
  /**
   * Frames from this many bytes are sent deflated (`compressed`) to a relay that speaks protocol
   * version 2, when that makes them an eighth smaller or more; `null` never compresses what this
   * client sends (it still takes compressed frames). Default 65,536.
   */
  compressFromBytes?: number | null
  /**
   * After `setLifecycle('background')`, how long the socket stays open (without heartbeats)
   * before the client closes it; 0 closes it at once. Default 30,000.
   */
  backgroundKeepAliveMs?: number
  /** Source of randomness in `[0, 1)` for jitter. Default `Math.random`. */
  random?: () => number
  /** Connect at once. Default true; with false, call `connect()`. */
  autoConnect?: boolean
  /**
   * Where documents and their outboxes are kept across restarts. Default: in memory (edits
   * survive disconnects, not the process). Use `LevelLocalStore` from `@weft/client/level`.
   */
  store?: LocalStore
  /** Fold a document's local updates into a snapshot after this many. Default 500. */
  compactAfterUpdates?: number
  /** Structs waiting for a lost dependency this long trigger a fresh sync. Default 1,000. */
  repairAfterMs?: number
  /** Edits unacknowledged this long on a live connection trigger a fresh sync. Default 15,000. */
  ackTimeoutMs?: number
  /**
   * Bounds on each document's unsaved edits (`{ edits?, bytes?, ageMs? }`): a handle emits
   * `outbox-limit` when its edits pass one, and again when they are back within them. Nothing is
   * dropped or refused: the bounds only tell the app. Default: none.
   */
  outboxLimits?: OutboxLimits
  /**
   * When each document's unsaved edits are merged into one (`{ maxEntries?, maxBytes? }`): once
   * more than `maxEntries` (default 1,000) wait, or they hold more than `maxBytes` (default
   * 1,048,576), and never before the edits since the last merge hold as many bytes as it. The merge
   * is the document's state beyond what the relay last reported durable, so a device editing
   * offline for days keeps memory and local storage in proportion to the document, not to its
   * keystrokes. It is settled when the relay saves the newest edit it took in; `pending`, the
   * `outbox` and `outbox-limit` still count and date each edit it stands for (after a restart, one
   * edit: the store keeps neither counts nor times). `null` keeps every edit apart.
   */
  outboxCompaction?: Partial<OutboxCompaction> | null
  /**
   * Time for the documents: their ack, lost-update and reopen timers, the `latencyMs` of `saved`
   * events and `lastSavedAt`. An object with `now()` (monotonic ms), `wallNow()` (ms since the
   * epoch), `setTimeout(fn, ms)` and `clearTimeout(handle)`. Default: `performance.now()`,
   * `Date.now()` and the global timers. The connection's own timers (heartbeat, reconnect) do not
   * use it yet.
   */
  clock?: Clock
  /** Connectivity hints; default: the browser's online/offline/visibility events, if any. `null` turns them off. */
  networkHints?: NetworkHints | null
  /**
   * Share one connection between the tabs (windows, workers) of one origin. Default: on where the
   * platform has Web Locks, BroadcastChannel and IndexedDB (browsers); off elsewhere (Node).
   * `false` gives this client a socket of its own.
   */
  tabs?: TabOptions | false
  /**
   * Spans of local edits (`weft.edit`, from the edit until it is saved or refused) through
   * `@opentelemetry/api`, their trace contexts sent with the edits so the relay's spans join the
   * same traces. Default: the app's global tracer provider, which records nothing until the app
   * installs an OpenTelemetry SDK; `{ tracerProvider }` uses another one; `false` turns it off.
   */
  tracing?: TracingOption
  /**
   * Called with each observation as it happens (a `MetricSample`: ack latency, retries,
   * reconnects, bytes sent and received, refusals, conflicts, pending edits and their age), to
   * forward to an app's telemetry. Attributes hold codes and collection names, never document
   * names (see `metricDocNames`). It runs inside the client: keep it quick. A hook that throws
   * loses that sample (counted in `client.metrics().hookErrors`) and nothing else. Default: none.
   */
  onMetric?: MetricHook
  /**
   * Add a `doc` attribute (the document's name) to the document samples of `onMetric`
   * (`ack_latency`, `refusals`, `conflicts`). Each document becomes a series of its own: only for
   * apps with few documents. Default false.
   */
  metricDocNames?: boolean
}

/** How the tabs of one origin share a connection (see `ClientOptions.tabs`). */
export interface TabOptions {
  /**
   * Tabs with the same group share a connection. Default: the relay URL and the store's
   * `location` (or `memory`), so clients of different relays or stores never mix.
   */
  group?: string
  /** Default `navigator.locks`. */
  locks?: TabLocks
  /** Default the global `BroadcastChannel`. */
  BroadcastChannel?: TabChannelConstructor
}

/** Tab sharing with its defaults filled in. */
export interface ResolvedTabOptions {
  readonly group: string
  readonly locks: TabLocks
  readonly Channel: TabChannelConstructor
}

/** {@link ClientOptions} with defaults filled in. */
export interface ResolvedClientOptions {
  readonly url: string
  readonly token: TokenSource | undefined
  /** `undefined`: the default margin; `null`: no automatic refresh. */
  readonly tokenRefreshMarginMs: number | null | undefined
  readonly WebSocket: WebSocketConstructor
  readonly correlationId: string
  readonly clientName: string
  readonly backoff: BackoffOptions
  readonly heartbeatIntervalMs: number
  readonly heartbeatTimeoutMs: number
  readonly connectTimeoutMs: number
  readonly backgroundKeepAliveMs: number
  readonly compressFromBytes: number | null
  readonly outboxLimits: OutboxLimits | null
  readonly outboxCompaction: OutboxCompaction | null
  readonly random: () => number
  readonly autoConnect: boolean
  readonly store: LocalStore
  readonly compactAfterUpdates: number
  readonly repairAfterMs: number
  readonly ackTimeoutMs: number
  readonly clock: Clock
  readonly networkHints: NetworkHints | null
  /** `null`: this client has a socket of its own. */
  readonly tabs: ResolvedTabOptions | null
  /** Where the spans of local edits go; `null`: not traced. */
  readonly tracer: Tracer | null
  readonly onMetric: MetricHook | null
  readonly metricDocNames: boolean
}

const invalid = (message: string): WeftError => new WeftError('INVALID_ARGUMENT', message)

const positive = (name: string, value: unknown): number => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(`${name} must be a positive number of milliseconds, got ${String(value)}`)
  }
  return value
}

const nonNegative = (name: string, value: unknown): number => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalid(`${name} must be 0 or a positive number of milliseconds, got ${String(value)}`)
  }
  return value
}

const checkCompressFrom = (value: unknown): number | null => {
  if (value === null) return null
  if (value === undefined) return DEFAULT_COMPRESS_FROM_BYTES
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalid(
      `options.compressFromBytes must be a positive integer or null, got ${String(value)}`,
    )
  }
  return value
}

const checkOutboxLimits = (limits: unknown): OutboxLimits | null => {
  if (limits === undefined) return null
  if (typeof limits !== 'object' || limits === null) {
    throw invalid('options.outboxLimits must be an object: { edits?, bytes?, ageMs? }')
  }
  const known = ['edits', 'bytes', 'ageMs']
  for (const [key, value] of Object.entries(limits)) {
    if (!known.includes(key)) {
      throw invalid(`options.outboxLimits.${key} is not a limit (edits, bytes, ageMs)`)
    }
    if (
      value !== undefined &&
      (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    ) {
      throw invalid(`options.outboxLimits.${key} must be a positive number, got ${String(value)}`)
    }
  }
  return limits as OutboxLimits
}

const checkOnMetric = (hook: unknown): MetricHook | null => {
  if (hook === undefined) return null
  if (typeof hook !== 'function')
    throw invalid(`options.onMetric must be a function of one sample, got ${typeof hook}`)
  return hook as MetricHook
}

const checkMetricDocNames = (value: unknown): boolean => {
  if (value === undefined) return false
  if (typeof value !== 'boolean')
    throw invalid(`options.metricDocNames must be true or false, got ${String(value)}`)
  return value
}

const checkStore = (store: unknown): LocalStore | undefined => {
  if (store === undefined) return undefined
  const methods = ['load', 'write', 'compact', 'clear', 'close'] as const
  if (
    typeof store !== 'object' ||
    store === null ||
    methods.some((name) => typeof (store as Record<string, unknown>)[name] !== 'function')
  ) {
    throw invalid(`options.store must be a LocalStore (${methods.join(', ')})`)
  }
  return store as LocalStore
}

const resolveTabs = (
  tabs: TabOptions | false | undefined,
  url: string,
  store: LocalStore | undefined,
): ResolvedTabOptions | null => {
  if (tabs === false) return null
  if (tabs !== undefined && (typeof tabs !== 'object' || tabs === null))
    throw invalid('options.tabs must be false or an object')
  const scope = globalThis as {
    navigator?: { locks?: TabLocks }
    BroadcastChannel?: TabChannelConstructor
    indexedDB?: unknown
  }
  const locks = tabs?.locks ?? scope.navigator?.locks
  const Channel = tabs?.BroadcastChannel ?? scope.BroadcastChannel
  if (tabs === undefined && (scope.indexedDB === undefined || !locks || !Channel)) return null
  if (typeof locks?.request !== 'function')
    throw invalid('options.tabs needs Web Locks: pass options.tabs.locks, or tabs: false')
  if (typeof Channel !== 'function')
    throw invalid(
      'options.tabs needs BroadcastChannel: pass options.tabs.BroadcastChannel, or tabs: false',
    )
  const group = tabs?.group ?? `${url}|${storeName(store)}`
  if (typeof group !== 'string' || group.length === 0)
    throw invalid('options.tabs.group must be a non-empty string')
  return { group, locks, Channel }
}

const storeName = (store: LocalStore | undefined): string => {
  const location = (store as { location?: unknown } | undefined)?.location
  return typeof location === 'string' ? location : store === undefined ? 'memory' : 'custom'
}

/** Fills in defaults and validates once; a bad option throws `INVALID_ARGUMENT` naming it. */
export const resolveClientOptions = (options: ClientOptions): ResolvedClientOptions => {
  if (typeof options !== 'object' || options === null)
    throw invalid('createClient needs an options object')
  const { url } = options
  if (typeof url !== 'string' || !/^wss?:\/\/./.test(url)) {
    throw invalid(`options.url must be a ws:// or wss:// URL, got ${JSON.stringify(url)}`)
  }
  const WebSocketImpl =
    options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
  if (typeof WebSocketImpl !== 'function') {
    throw invalid(
      'no WebSocket implementation: pass options.WebSocket (in Node: `import { WebSocket } from "ws"`)',
    )
  }
  const { token } = options
  if (token !== undefined && typeof token !== 'string' && typeof token !== 'function') {
    throw invalid('options.token must be a string or a function returning one')
  }
  const { tokenRefreshMarginMs } = options
  if (tokenRefreshMarginMs !== undefined && tokenRefreshMarginMs !== null) {
    positive('options.tokenRefreshMarginMs', tokenRefreshMarginMs)
  }
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff }
  for (const [key, value] of Object.entries(backoff)) positive(`options.backoff.${key}`, value)
  const store = checkStore(options.store)
  const random = options.random ?? Math.random
  if (typeof random !== 'function') throw invalid('options.random must be a function')
  const clock = options.clock === undefined ? systemClock : options.clock
  if (!isClock(clock)) {
    throw invalid('options.clock must be an object with now, wallNow, setTimeout and clearTimeout')
  }
  return {
    url,
    token,
    tokenRefreshMarginMs,
    WebSocket: WebSocketImpl,
    correlationId: options.correlationId ?? globalThis.crypto.randomUUID(),
    clientName: options.clientName ?? 'weft-client',
    backoff,
    heartbeatIntervalMs: positive(
      'options.heartbeatIntervalMs',
      options.heartbeatIntervalMs ?? 15_000,
    ),
    heartbeatTimeoutMs: positive(
      'options.heartbeatTimeoutMs',
      options.heartbeatTimeoutMs ?? 10_000,
    ),
    connectTimeoutMs: positive('options.connectTimeoutMs', options.connectTimeoutMs ?? 15_000),
    outboxLimits: checkOutboxLimits(options.outboxLimits),
    outboxCompaction: resolveOutboxCompaction(options.outboxCompaction),
    compressFromBytes: checkCompressFrom(options.compressFromBytes),
    backgroundKeepAliveMs: nonNegative(
      'options.backgroundKeepAliveMs',
      options.backgroundKeepAliveMs ?? 30_000,
    ),
    random,
    autoConnect: options.autoConnect ?? true,
    store: store ?? new MemoryLocalStore(),
    compactAfterUpdates: positive(
      'options.compactAfterUpdates',
      options.compactAfterUpdates ?? 500,
    ),
    repairAfterMs: positive('options.repairAfterMs', options.repairAfterMs ?? 1_000),
    ackTimeoutMs: positive('options.ackTimeoutMs', options.ackTimeoutMs ?? 15_000),
    clock,
    networkHints: options.networkHints === undefined ? browserNetworkHints() : options.networkHints,
    tabs: resolveTabs(options.tabs, url, store),
    tracer: resolveTracing(options.tracing),
    onMetric: checkOnMetric(options.onMetric),
    metricDocNames: checkMetricDocNames(options.metricDocNames),
  }
}
