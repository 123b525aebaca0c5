/**
 * WebhookDispatcher: delivers the change feed to configured endpoints, each on its own loop with
 * its own durable cursor, and gives operators their status and dead letters to inspect, replay
 * or discard.
 */
import { WeftError } from '@weft/protocol'
import type { ChangeFeed } from './change-feed.js'
import type { DocStore } from './doc-store.js'
import { hasExclusiveLocks } from './exclusive-locks.js'
import { silentLogger, type Logger } from './logger.js'
import {
  WebhookEndpoint,
  type DeadLetter,
  type WebhookEndpointStatus,
  type WebhookEvent,
} from './webhook-endpoint.js'
import { WebhookLease } from './webhook-lease.js'
import { resolveWebhookEndpoints, type WebhookEndpointOptions } from './webhook-options.js'

/** Options of {@link WebhookDispatcher}. */
export interface WebhookDispatcherOptions {
  /** The relay's change feed (`relay.feed`); its store must keep one. */
  readonly feed: ChangeFeed
  /** Where cursors and dead letters are kept: the relay's store. */
  readonly store: DocStore
  readonly endpoints: readonly WebhookEndpointOptions[]
  readonly logger?: Logger
  /** Jitter source, uniform in [0, 1). Default `Math.random`. */
  readonly random?: () => number
  /** Default the global `fetch`. */
  readonly fetch?: typeof globalThis.fetch
  /**
   * With a store several relays share (one offering `tryLock`, as PostgresStore does): mean wait
   * (ms) between a relay's attempts to take an endpoint another relay runs, which bounds how
   * long a dead holder's endpoints wait. Default 1,000.
   */
  readonly lockRetryMs?: number
  /** Told of every delivery delivered, failed, dead-lettered or replayed (metrics, tests). */
  readonly onEvent?: (event: WebhookEvent) => void
}

/**
 * Posts every change of the feed to each endpoint, signed, in feed order, at least once: an
 * endpoint's cursor moves only past events it acknowledged with a 2xx (or that were
 * dead-lettered after the last attempt), and survives restarts. On a store several relays share
 * (one with `tryLock`), each endpoint runs on one relay at a time, under a lock whose fencing
 * token every cursor write checks; when its holder dies another relay takes over from the
 * stored cursor, so deliveries in flight then may arrive twice, and the cursor never moves back.
 *
 * ```ts
 * const webhooks = new WebhookDispatcher({ feed: relay.feed, store, endpoints: [{ id: 'search',
 *   url: 'https://search.internal/weft', secrets: [process.env.SEARCH_WEBHOOK_SECRET] }] })
 * await webhooks.start()
 * ```
 */
export class WebhookDispatcher {
  readonly #endpoints = new Map<string, WebhookEndpoint>()
  readonly #leases: WebhookLease[] = []
  #started = false

  constructor(options: WebhookDispatcherOptions) {
    if (
      typeof options?.feed?.read !== 'function' ||
      typeof options.store?.writeState !== 'function'
    ) {
      throw new WeftError('INVALID_ARGUMENT', 'WebhookDispatcher needs { feed: relay.feed, store }')
    }
    const endpoints = resolveWebhookEndpoints(options.endpoints)
    if (endpoints.length > 0 && !options.feed.enabled) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        'webhooks need the change feed: give the store a history window (--history-ms above 0)',
      )
    }
    const context = {
      feed: options.feed,
      store: options.store,
      logger: options.logger ?? silentLogger,
      random: options.random ?? Math.random,
      fetch: options.fetch ?? globalThis.fetch,
      notify: options.onEvent ?? ((): void => {}),
    }
    for (const endpoint of endpoints)
      this.#endpoints.set(endpoint.id, new WebhookEndpoint(endpoint, context))
    const { store } = options
    const retryMs = options.lockRetryMs ?? 1000
    if (!Number.isSafeInteger(retryMs) || retryMs < 1) {
      throw new WeftError('INVALID_ARGUMENT', 'lockRetryMs must be a positive integer')
    }
    if (!hasExclusiveLocks(store)) return
    for (const endpoint of this.#endpoints.values()) {
      const { logger, random } = context
      this.#leases.push(new WebhookLease({ endpoint, locks: store, logger, random, retryMs }))
    }
  }

  /** Starts every endpoint's loop (reading or setting its cursor first). */
  async start(): Promise<void> {
    if (this.#started) return
    this.#started = true
    if (this.#leases.length > 0) {
      await Promise.all(this.#leases.map((lease) => lease.start()))
      return
    }
    await Promise.all([...this.#endpoints.values()].map((endpoint) => endpoint.start()))
  }

  /** Each endpoint's cursor, counts and the delivery being retried. */
  status(): WebhookEndpointStatus[] {
    return [...this.#endpoints.values()].map((endpoint) => endpoint.status)
  }

  /** The endpoint's dead letters, oldest first. */
  async deadLetters(id: string): Promise<DeadLetter[]> {
    return this.#endpoint(id).deadLetters()
  }

  /** Posts the endpoint's dead letters again, oldest first, until one fails. */
  async replay(id: string): Promise<{ delivered: number; remaining: number }> {
    return this.#endpoint(id).replay()
  }

  /** Removes the endpoint's dead letters without delivering them. */
  async discard(id: string): Promise<number> {
    return this.#endpoint(id).discard()
  }

  /** Stops every loop; attempts in flight are aborted and made again after a restart. */
  async close(): Promise<void> {
    await Promise.all(this.#leases.map((lease) => lease.close()))
    await Promise.all([...this.#endpoints.values()].map((endpoint) => endpoint.stop()))
  }

  #endpoint(id: string): WebhookEndpoint {
    const endpoint = this.#endpoints.get(id)
    if (endpoint === undefined) {
      throw new WeftError('NOT_FOUND', `no webhook endpoint "${String(id)}"`)
    }
    return endpoint
  }
}
