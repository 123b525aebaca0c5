/**
 * WebhookLease: one endpoint's delivery loop on relays sharing a store — it runs on whichever
 * relay holds the endpoint's lock, and another relay takes over soon after the holder is gone.
 */
import type { ExclusiveLocks, HeldLock } from './exclusive-locks.js'
import type { Logger } from './logger.js'
import type { WebhookEndpoint } from './webhook-endpoint.js'
import { sleep } from './webhook-post.js'

/** Options of {@link WebhookLease}. */
export interface WebhookLeaseOptions {
  readonly endpoint: WebhookEndpoint
  readonly locks: ExclusiveLocks
  readonly logger: Logger
  /** Uniform in [0, 1): spreads the relays' attempts. */
  readonly random: () => number
  /** Mean wait (ms) between attempts to take the lock while another relay holds it. */
  readonly retryMs: number
}

/** The store lock of endpoint `id`. */
export const webhookLockName = (id: string): string => `webhook/${id}`

/**
 * Tries to take the endpoint's lock, and while it holds it runs the endpoint's loop with every
 * cursor write fenced by the lock; on losing it (its connection failed, or a newer holder fenced
 * a write out) it stops the loop and tries again. Deliveries in flight when the holder dies are
 * made again by the next one: at least once, duplicates only around a takeover.
 */
export class WebhookLease {
  readonly #options: WebhookLeaseOptions
  readonly #closing = new AbortController()
  #running: Promise<void> | null = null

  constructor(options: WebhookLeaseOptions) {
    this.#options = options
  }

  /** Makes a first attempt (so a lone relay delivers once this resolves), then keeps trying. */
  async start(): Promise<void> {
    if (this.#running !== null) return
    const first = await this.#attempt()
    this.#running = this.#run(first)
  }

  /** Stops the loop (if running here) and gives the lock up. */
  async close(): Promise<void> {
    this.#closing.abort()
    await this.#running
  }

  async #run(first: { lock: HeldLock; finished: Promise<void> } | null): Promise<void> {
    const { endpoint, random, retryMs } = this.#options
    const signal = this.#closing.signal
    let held = first
    while (!signal.aborted) {
      if (held !== null) {
        await this.#hold(held.lock, held.finished)
        held = null
        continue
      }
      await sleep(Math.round(retryMs * (0.5 + random())), signal)
      if (!signal.aborted) held = await this.#attempt()
    }
    await endpoint.stop()
  }

  /** Takes the lock and starts the loop under it; null when another relay holds it. */
  async #attempt(): Promise<{ lock: HeldLock; finished: Promise<void> } | null> {
    const { endpoint, locks, logger } = this.#options
    const webhook = endpoint.options.id
    let lock: HeldLock | null = null
    try {
      lock = await locks.tryLock(webhookLockName(webhook))
      if (lock === null) return null
      const { finished } = await endpoint.start(lock)
      logger.info('webhook endpoint running on this relay', { webhook, token: lock.token })
      return { lock, finished }
    } catch (error) {
      logger.warn('webhook lock not taken', { webhook, error: String(error) })
      await endpoint.stop()
      await lock?.release()
      return null
    }
  }

  /** Runs until the loop ends, the lock is lost or the lease closes; then stops and releases. */
  async #hold(lock: HeldLock, finished: Promise<void>): Promise<void> {
    const { endpoint, logger } = this.#options
    const closed = new Promise<void>((resolve) => {
      if (this.#closing.signal.aborted) resolve()
      this.#closing.signal.addEventListener('abort', () => resolve(), { once: true })
    })
    await Promise.race([finished, lock.lost, closed])
    await endpoint.stop()
    await lock.release()
    if (!this.#closing.signal.aborted)
      logger.warn('webhook endpoint lock lost; trying to take it again', {
        webhook: endpoint.options.id,
      })
  }
}
