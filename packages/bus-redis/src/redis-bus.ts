/** RedisBus: a RelayBus on Redis pub/sub — one channel per document, a dedicated subscriber connection, health checks. */
import { randomUUID } from 'node:crypto'
import {
  decodeBusMessage,
  encodeBusMessage,
  silentLogger,
  type BusMessage,
  type Logger,
  type RelayBus,
  type RelayBusListener,
} from '@weft/server'
import { WeftError } from '@weft/protocol'
import { Redis } from 'ioredis'

/** Options of {@link RedisBus}. Durations are milliseconds. */
export interface RedisBusOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). Required. */
  url: string
  /** This relay's id on the bus. Default: a random UUID (unique per process). */
  id?: string
  /** Prefix of the document channels (`<prefix><doc>`). Default `weft:doc:`. */
  channelPrefix?: string
  /** Receives connection changes and failures. Default: silent. */
  logger?: Logger
  /** Interval of the PING that tells a frozen server from a quiet one. Default 1,000. */
  healthIntervalMs?: number
  /** A PING unanswered this long marks the bus down (until an answer arrives). Default 2,000. */
  healthTimeoutMs?: number
  /** Longest wait between reconnection attempts (exponential from 50 ms, with jitter). Default 2,000. */
  maxBackoffMs?: number
}

const DEFAULTS = {
  channelPrefix: 'weft:doc:',
  healthIntervalMs: 1_000,
  healthTimeoutMs: 2_000,
  maxBackoffMs: 2_000,
}

/**
 * Relays sharing one store publish each document's durable records and presence on the channel
 * `<prefix><doc>` and subscribe to the channels of the documents they have loaded, on a
 * connection of their own (a subscribed Redis connection can do nothing else). Messages are
 * binary (the relay's bus format; no JSON). Both connections reconnect with exponential backoff;
 * the bus is up while both are connected, every subscription is active and the server answers
 * PING in time. Publishing while down drops the message: relays read the store instead.
 */
export class RedisBus implements RelayBus {
  readonly id: string
  readonly #prefix: string
  readonly #logger: Logger
  readonly #publisher: Redis
  readonly #subscriber: Redis
  /** Subscribed documents; `''` is the relay-wide channel, always subscribed. */
  readonly #docs = new Set<string>([''])
  readonly #listeners = new Set<RelayBusListener>()
  readonly #health: ReturnType<typeof setInterval>
  readonly #healthTimeoutMs: number
  #subscribed = false
  #healthy = true
  #pinging = false
  #up = false
  #closed = false

  constructor(options: RedisBusOptions) {
    const resolved = { ...DEFAULTS, ...dropUndefined(options) }
    if (typeof resolved.url !== 'string' || !/^rediss?:\/\//.test(resolved.url)) {
      throw new WeftError('INVALID_ARGUMENT', 'options.url must be a redis:// or rediss:// URL')
    }
    for (const key of ['healthIntervalMs', 'healthTimeoutMs', 'maxBackoffMs'] as const) {
      if (!Number.isSafeInteger(resolved[key]) || resolved[key] < 1) {
        throw new WeftError('INVALID_ARGUMENT', `options.${key} must be a positive integer`)
      }
    }
    this.id = resolved.id ?? randomUUID()
    this.#prefix = resolved.channelPrefix
    this.#logger = resolved.logger ?? silentLogger
    this.#healthTimeoutMs = resolved.healthTimeoutMs
    const { maxBackoffMs } = resolved
    const connection = {
      // Nothing waits for a connection: a publish while down is dropped, a subscription is made
      // again once connected.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      autoResubscribe: false,
      retryStrategy: (attempt: number) =>
        Math.round(
          Math.min(maxBackoffMs, 50 * 2 ** Math.min(attempt, 16)) * (0.5 + Math.random() / 2),
        ),
    }
    this.#publisher = new Redis(resolved.url, { ...connection, connectionName: 'weft-relay-pub' })
    this.#subscriber = new Redis(resolved.url, { ...connection, connectionName: 'weft-relay-sub' })
    for (const [role, client] of [
      ['publisher', this.#publisher],
      ['subscriber', this.#subscriber],
    ] as const) {
      client.on('error', (error: Error) =>
        this.#logger.debug('redis connection error', { role, error: error.message }),
      )
      client.on('close', () => {
        if (role === 'subscriber') this.#subscribed = false
        this.#changed()
      })
    }
    this.#publisher.on('ready', () => {
      this.#healthy = true
      this.#changed()
    })
    this.#subscriber.on('ready', () => void this.#resubscribe())
    this.#subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) =>
      this.#message(message),
    )
    this.#health = setInterval(() => this.#ping(), resolved.healthIntervalMs)
    this.#health.unref()
  }

  get up(): boolean {
    return this.#up
  }

  listen(listener: RelayBusListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Resolves once the bus is up; rejects after `timeoutMs`. */
  whenUp(timeoutMs = 10_000): Promise<void> {
    if (this.#up) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        detach()
        reject(new WeftError('UNAVAILABLE', `Redis bus not up within ${timeoutMs} ms`))
      }, timeoutMs)
      const detach = this.listen({
        message: () => {},
        state: (up) => {
          if (!up) return
          clearTimeout(timer)
          detach()
          resolve()
        },
      })
    })
  }

  async subscribe(doc: string): Promise<void> {
    this.#docs.add(doc)
    // While down, #resubscribe makes it before the bus is up again.
    if (!this.#subscribed) return
    await this.#subscriber.subscribe(this.#prefix + doc)
  }

  unsubscribe(doc: string): void {
    if (doc === '' || !this.#docs.delete(doc) || !this.#subscribed) return
    this.#subscriber.unsubscribe(this.#prefix + doc).catch(() => {})
  }

  publish(message: BusMessage): void {
    if (!this.#up) return
    const bytes = encodeBusMessage(message)
    const payload = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.#publisher.publish(this.#prefix + message.doc, payload).catch((error: unknown) => {
      this.#logger.debug('redis publish failed', { doc: message.doc, error: String(error) })
    })
  }

  /** Disconnects both connections; the bus is down for good. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#health)
    this.#publisher.disconnect()
    this.#subscriber.disconnect()
    this.#changed()
    await Promise.resolve()
  }

  async #resubscribe(): Promise<void> {
    const channels = [...this.#docs].map((doc) => this.#prefix + doc)
    try {
      if (channels.length > 0) await this.#subscriber.subscribe(...channels)
    } catch (error) {
      // The connection failed again; the next 'ready' tries again.
      this.#logger.debug('redis resubscription failed', { error: String(error) })
      return
    }
    if (this.#subscriber.status !== 'ready') return
    this.#subscribed = true
    this.#changed()
  }

  /** One PING at a time; one unanswered for `healthTimeoutMs` marks the bus down until it answers. */
  #ping(): void {
    if (this.#pinging || this.#publisher.status !== 'ready') return
    this.#pinging = true
    const timer = setTimeout(() => {
      this.#healthy = false
      this.#changed()
    }, this.#healthTimeoutMs)
    this.#publisher
      .ping()
      .then(
        () => {
          this.#healthy = true
          this.#changed()
        },
        () => {},
      )
      .finally(() => {
        clearTimeout(timer)
        this.#pinging = false
      })
  }

  #message(bytes: Buffer): void {
    const message = decodeBusMessage(bytes)
    if (message === null) {
      this.#logger.warn('ignoring an unreadable bus message', { bytes: bytes.length })
      return
    }
    for (const listener of this.#listeners) listener.message(message)
  }

  #changed(): void {
    const up =
      !this.#closed && this.#healthy && this.#subscribed && this.#publisher.status === 'ready'
    if (up === this.#up) return
    this.#up = up
    this.#logger.info(up ? 'redis bus up' : 'redis bus down', {})
    for (const listener of this.#listeners) listener.state(up)
  }
}

const dropUndefined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
