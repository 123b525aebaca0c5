/** RelayOptions: the relay's settings, their defaults, and their validation. */
import { DEFAULT_TRUSTED_PROXIES, TrustedProxies } from './client-address.js'
import type { AnySchema } from '@weft/doc'
import { WeftError, DEFAULT_COMPRESS_FROM_BYTES } from '@weft/protocol'
import type { Authenticator } from './auth.js'
import type { DocStore } from './doc-store.js'
import { silentLogger, type Logger } from './logger.js'
import { silentMetrics, type RelayMetrics } from './metrics.js'
import type { RelayBus } from './relay-bus.js'
import { checkPresenceClaims, type PresenceClaims } from './presence-claims.js'
import { parseRecordRules, type RecordRules } from './record-rules.js'

const MiB = 1024 * 1024

/** Options of {@link Relay}. Every limit has a default; sizes are bytes, durations milliseconds. */
export interface RelayOptions {
  /** Where documents are persisted. Required. */
  store: DocStore
  /**
   * Who may connect and what they may do. Required: `jwtAuth({ … })`, or `openAuth()` for local
   * development (everyone may write everything; the relay logs a warning when it starts).
   */
  auth: Authenticator
  /** Receives the relay's log lines (never document content or tokens). Default: silent. */
  logger?: Logger
  /** Receives counts and latencies (Prometheus in the relay app); any subset. Default: none. */
  metrics?: Partial<RelayMetrics>
  /**
   * Largest frame accepted; bigger ones close the socket with 1009. Default 16 MiB. Clients that
   * speak protocol version 3 send larger messages in chunks of 250,000 bytes, which
   * `maxDocBytes` bounds instead.
   */
  maxMessageBytes?: number
  /**
   * The document-size limit: an edit whose bytes, or (for an edit from 1 MiB or a 64th of this)
   * the document's encoded size with it, would be over this is refused with `DOC_TOO_LARGE`, as
   * is a chunked transfer announcing more. Unfinished transfers from clients are kept, to be resumed, within
   * four times this over the relay. Default 128 MiB.
   */
  maxDocBytes?: number
  /**
   * Frames from this many bytes go deflated (`compressed`) to clients that speak protocol
   * version 2, when that makes them an eighth smaller or more; `null` never compresses.
   * Compressed frames from clients are taken either way. Default 65,536.
   */
  compressFromBytes?: number | null
  /** Send buffer over which a socket is closed as a slow consumer (4431). Default 64 MiB. */
  maxBufferedBytes?: number
  /**
   * Messages a second one socket may send, twice that in a burst; beyond, reading pauses. Default
   * 0: no separate message limit — every message already costs {@link MESSAGE_COST_BYTES} extra
   * against `maxBytesPerSecond`, which bounds a socket of tiny messages without throttling a fast
   * legitimate writer (a stock y-websocket client sends one message per keystroke).
   */
  maxMessagesPerSecond?: number
  /**
   * Bytes a second one socket may send, twice that in a burst, each message counting
   * {@link MESSAGE_COST_BYTES} more than its size; beyond, reading pauses (the sender slows down
   * through TCP backpressure and loses nothing). Default 8 MiB.
   */
  maxBytesPerSecond?: number
  /**
   * Open sockets from one client address; more are refused with HTTP 429. Default 1,024. The
   * client address comes from `X-Forwarded-For` / `Forwarded` when the socket's peer is a trusted
   * proxy (see `trustedProxies`), so clients behind a proxy are counted one by one.
   */
  maxConnectionsPerAddress?: number
  /**
   * Peers whose `X-Forwarded-For` / `Forwarded` headers are believed: addresses, CIDR ranges, and
   * the names `loopback` (127.0.0.0/8, ::1) and `private` (10/8, 172.16/12, 192.168/16,
   * 100.64/10, link-local, fc00::/7). Default `['loopback', 'private']`: a relay exposed directly
   * counts each client by its own address (headers from the internet are ignored), and one behind
   * a reverse proxy on the same machine or network counts the proxy's clients. An empty list
   * trusts no one.
   */
  trustedProxies?: readonly string[]
  /** Bytes of HTTP headers an upgrade request may carry; more is refused with 431. Default 8 KiB. */
  maxHeaderBytes?: number
  /**
   * Browser origins allowed to connect (`Origin` header, e.g. `https://app.example.com`); others
   * are refused with 403. Requests without an `Origin` (not from a browser) are allowed. Default:
   * any origin.
   */
  allowedOrigins?: readonly string[] | null
  /**
   * Presence fields the relay sets from each session's verified token, whatever the client
   * sent: field → claim, both dot paths (`{ 'user.name': 'name' }`; a claim the token lacks
   * removes the field). Others see these values; services in the relay process are not
   * rewritten. Default none.
   */
  presenceClaims?: PresenceClaims | null
  /** Documents one Weft socket may have open. Default 256. */
  maxDocsPerSocket?: number
  /** Bytes a socket may send for a document while it loads. Default 32 MiB. */
  maxQueuedBytes?: number
  /** Time a socket has to send `hello` and have its token verified. Default 10 s. */
  helloTimeoutMs?: number
  /** Messages a Weft socket may send after `hello` before its token is verified. Default 64. */
  maxPreAuthMessages?: number
  /** …and their bytes. Default 1 MiB. */
  maxPreAuthBytes?: number
  /** Interval of WebSocket pings; a socket that missed the previous one is dropped. Default 30 s. 0 disables. */
  heartbeatIntervalMs?: number
  /** How long a document without peers stays loaded. Default 30 s. */
  unloadGraceMs?: number
  /** Compact a document's log once it holds this many updates. Default 10,000. */
  compactAfterUpdates?: number
  /** …or this many bytes. Default 16 MiB. */
  compactAfterBytes?: number
  /** Name and version sent in `welcome`. Default `weft-relay`. */
  serverName?: string
  /**
   * Document schemas by name pattern (`*` within a segment, `**` across, as in token scopes);
   * the first matching entry applies. A document with a schema has its changes described as
   * domain events in the change feed, is read as records over HTTP, and takes record changes.
   * Default: none.
   */
  schemas?: readonly DocSchema[]
  /**
   * The bus to other relays sharing `store` (`@weft/bus-redis`): each durable record and presence
   * change is published, the others' are forwarded to this relay's clients, and a gap in a
   * document's sequence (a lost message, a bus outage) is read from the store. Default `null`: a
   * single relay.
   */
  bus?: RelayBus | null
}

/** A schema for the documents whose names match `pattern`, and who may write their records. */
export interface DocSchema {
  readonly pattern: string
  readonly schema: AnySchema
  /**
   * Record rules by collection (see `CollectionRules`), applied to writers with a verified token.
   * Default none: any writer the token's scope allows may write any record that fits the schema.
   */
  readonly rules?: RecordRules
}

/** {@link RelayOptions} with every default filled in. */
export type ResolvedRelayOptions = Omit<Required<RelayOptions>, 'metrics'> & {
  readonly metrics: RelayMetrics
}

const DEFAULTS = {
  maxMessageBytes: 16 * MiB,
  maxDocBytes: 128 * MiB,
  maxMessagesPerSecond: 0,
  maxBytesPerSecond: 8 * MiB,
  maxConnectionsPerAddress: 1024,
  maxHeaderBytes: 8 * 1024,
  maxBufferedBytes: 64 * MiB,
  maxDocsPerSocket: 256,
  maxQueuedBytes: 32 * MiB,
  helloTimeoutMs: 10_000,
  maxPreAuthMessages: 64,
  maxPreAuthBytes: MiB,
  heartbeatIntervalMs: 30_000,
  unloadGraceMs: 30_000,
  compactAfterUpdates: 10_000,
  compactAfterBytes: 16 * MiB,
} as const

/** Fills in defaults and checks every option once; a bad option throws `INVALID_ARGUMENT` naming it. */
export const resolveRelayOptions = (options: RelayOptions): ResolvedRelayOptions => {
  if (typeof options !== 'object' || options === null) {
    throw new WeftError('INVALID_ARGUMENT', 'Relay options must be an object')
  }
  const { store } = options
  const methods = [
    'load',
    'append',
    'compact',
    'list',
    'history',
    'delete',
    'close',
    'readFeed',
    'pruneFeed',
    'readState',
    'writeState',
  ] as const
  const missing = methods.filter(
    (method) =>
      typeof (store as unknown as Record<string, unknown> | undefined)?.[method] !== 'function',
  )
  if (missing.length > 0) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `options.store must be a DocStore (${methods.join(', ')}); missing: ${missing.join(', ')}`,
    )
  }
  const { auth } = options
  if (typeof auth?.authenticate !== 'function' || (auth.mode !== 'open' && auth.mode !== 'token')) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      'options.auth must be an Authenticator: jwtAuth({ … }), or openAuth() for local development',
    )
  }
  const resolved = {
    ...DEFAULTS,
    allowedOrigins: null as readonly string[] | null,
    presenceClaims: null as PresenceClaims | null,
    compressFromBytes: DEFAULT_COMPRESS_FROM_BYTES as number | null,
    logger: silentLogger,
    serverName: 'weft-relay',
    schemas: [] as readonly DocSchema[],
    bus: null as RelayBus | null,
    trustedProxies: DEFAULT_TRUSTED_PROXIES,
    ...dropUndefined(options),
    metrics: resolveMetrics(options.metrics),
  }
  for (const key of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>) {
    const value = resolved[key]
    const allowZero = key === 'heartbeatIntervalMs' || key === 'maxMessagesPerSecond'
    if (!Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `options.${key} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`,
      )
    }
  }
  const { compressFromBytes } = resolved
  if (
    compressFromBytes !== null &&
    (!Number.isSafeInteger(compressFromBytes) || compressFromBytes < 1)
  ) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `options.compressFromBytes must be a positive integer or null, got ${String(compressFromBytes)}`,
    )
  }
  checkAllowedOrigins(resolved.allowedOrigins, 'options.allowedOrigins')
  checkSchemas(resolved.schemas)
  checkPresenceClaims(resolved.presenceClaims)
  checkBus(resolved.bus)
  new TrustedProxies(resolved.trustedProxies)
  if (typeof resolved.serverName !== 'string') {
    throw new WeftError('INVALID_ARGUMENT', 'options.serverName must be a string')
  }
  return resolved
}

const checkBus = (bus: unknown): void => {
  if (bus === null) return
  const methods = ['listen', 'subscribe', 'unsubscribe', 'publish'] as const
  const record = bus as Record<string, unknown> | undefined
  if (
    typeof record !== 'object' ||
    typeof record['id'] !== 'string' ||
    methods.some((method) => typeof record[method] !== 'function')
  ) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `options.bus must be a RelayBus (id, ${methods.join(', ')}), such as @weft/bus-redis's, or null`,
    )
  }
}

const checkSchemas = (schemas: unknown): void => {
  if (!Array.isArray(schemas)) {
    throw new WeftError('INVALID_ARGUMENT', 'options.schemas must be a list of { pattern, schema }')
  }
  schemas.forEach((entry: Partial<DocSchema> | null, index) => {
    const schema = entry?.schema
    if (typeof entry?.pattern !== 'string' || entry.pattern.length === 0) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `options.schemas[${index}].pattern must be a document name pattern`,
      )
    }
    if (
      typeof schema !== 'object' ||
      schema === null ||
      !Number.isSafeInteger(schema.version) ||
      typeof schema.collections !== 'object'
    ) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `options.schemas[${index}].schema must be a schema from defineSchema or schemaFromJson`,
      )
    }
    if (entry.rules !== undefined) {
      parseRecordRules(entry.rules, schema as AnySchema, `options.schemas[${index}].rules`)
    }
  })
}

/** `value` without its undefined properties (so defaults apply). */
export const dropUndefined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T

/** Fills the methods `metrics` leaves out with no-ops; anything but functions is refused. */
const resolveMetrics = (metrics: Partial<RelayMetrics> | undefined): RelayMetrics => {
  if (metrics === undefined) return silentMetrics
  if (typeof metrics !== 'object' || metrics === null) {
    throw new WeftError('INVALID_ARGUMENT', 'options.metrics must be an object of functions')
  }
  for (const [name, value] of Object.entries(metrics)) {
    if (!(name in silentMetrics) || typeof value !== 'function') {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `options.metrics.${name} must be one of the RelayMetrics functions (${Object.keys(silentMetrics).join(', ')})`,
      )
    }
  }
  return { ...silentMetrics, ...metrics }
}

/** Checks an `allowedOrigins` option (`what` names it): a list of origins, or null. */
export const checkAllowedOrigins = (origins: unknown, what: string): void => {
  if (origins === null) return
  if (Array.isArray(origins) && origins.every((origin) => typeof origin === 'string')) return
  throw new WeftError(
    'INVALID_ARGUMENT',
    `${what} must be a list of origins such as "https://app.example.com", or null`,
  )
}
