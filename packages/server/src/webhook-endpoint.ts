/**
 * WebhookEndpoint: one endpoint's delivery loop — read the feed after its cursor, post a signed
 * batch, retry with exponential backoff and full jitter, dead-letter after the last attempt, and
 * move the durable cursor only past what was delivered or dead-lettered.
 */
import { fullJitterDelayMs, WeftError } from '@weft/protocol'
import { matchesPattern } from './auth.js'
import type { ChangeFeed } from './change-feed.js'
import type { DocStore, FeedEntry } from './doc-store.js'
import type { HeldLock } from './exclusive-locks.js'
import { feedEventJson } from './feed-event.js'
import type { Logger } from './logger.js'
import type { ResolvedWebhookEndpoint } from './webhook-options.js'
import { postWebhook, sleep, type WebhookEventJson } from './webhook-post.js'

/** A delivery whose attempts all failed, kept for an operator to inspect and replay. */
export interface DeadLetter {
  /** The delivery's stable id: `<endpoint>:<first position>-<last position>`. */
  readonly delivery: string
  readonly events: readonly WebhookEventJson[]
  readonly attempts: number
  readonly lastError: string
  readonly failedAtMs: number
}

/** How an endpoint is doing, for operators. */
export interface WebhookEndpointStatus {
  readonly id: string
  readonly url: string
  /** Feed position delivered (or dead-lettered) through. */
  readonly cursor: number
  readonly delivered: number
  readonly deadLettered: number
  /**
   * Whether this relay runs the endpoint's loop. Relays sharing a store run each endpoint on one
   * of them at a time; on the others the counts and cursor are those of their last turn.
   */
  readonly active: boolean
  /** The delivery being retried, if any. */
  readonly failing: {
    readonly delivery: string
    readonly attempt: number
    readonly lastError: string
  } | null
}

/** What happened to a delivery, for metrics and logs. */
export interface WebhookEvent {
  readonly type: 'delivered' | 'failed' | 'dead-lettered' | 'replayed'
  readonly endpoint: string
  readonly delivery: string
  readonly attempt: number
  /** Events in the delivery. */
  readonly events: number
  /** Why it failed (`failed`, `dead-lettered`). */
  readonly error?: string
  /** How long the attempt took. */
  readonly seconds: number
}

/** What an endpoint needs from its dispatcher. */
export interface WebhookEndpointContext {
  readonly feed: ChangeFeed
  readonly store: DocStore
  readonly logger: Logger
  /** Uniform in [0, 1): the jitter. */
  readonly random: () => number
  readonly fetch: typeof globalThis.fetch
  readonly notify: (event: WebhookEvent) => void
}

/** Store keys of an endpoint's state. */
export const cursorKey = (id: string): string => `webhook/${id}/cursor`
export const deadPrefix = (id: string): string => `webhook/${id}/dead/`
const deadKey = (id: string, position: number): string =>
  `${deadPrefix(id)}${String(position).padStart(16, '0')}`

/**
 * Delivers one endpoint's events in feed order, one delivery at a time, so a document's events
 * arrive in order. A slow or failing endpoint holds back only itself.
 */
export class WebhookEndpoint {
  readonly options: ResolvedWebhookEndpoint
  readonly #context: WebhookEndpointContext
  #stop = new AbortController()
  /** The lock this relay runs the endpoint under (relays sharing a store), or null. */
  #lock: HeldLock | null = null
  #cursor = 0
  #delivered = 0
  #deadLettered = 0
  #failing: WebhookEndpointStatus['failing'] = null
  #running: Promise<void> | null = null

  constructor(options: ResolvedWebhookEndpoint, context: WebhookEndpointContext) {
    this.options = options
    this.#context = context
  }

  get status(): WebhookEndpointStatus {
    const { id, url } = this.options
    return {
      id,
      url,
      cursor: this.#cursor,
      delivered: this.#delivered,
      deadLettered: this.#deadLettered,
      active: this.#running !== null,
      failing: this.#failing,
    }
  }

  /**
   * Loads (or sets) the cursor, then delivers until `stop`. Under `lock`, every cursor write is
   * fenced by it, and the loop ends by itself once a newer holder took the lock. Resolves with
   * `finished`, which settles when the loop ends.
   */
  async start(lock: HeldLock | null = null): Promise<{ finished: Promise<void> }> {
    const { feed } = this.#context
    this.#stop = new AbortController()
    this.#lock = lock
    const [saved] = await this.#context.store.readState(cursorKey(this.options.id))
    if (typeof saved?.value === 'number') this.#cursor = saved.value
    else {
      const { head, prunedThrough } = await feed.bounds()
      this.#cursor = this.options.start === 'oldest' ? prunedThrough : head
      await this.#write([{ key: cursorKey(this.options.id), value: this.#cursor }])
    }
    const running = this.#loop().finally(() => {
      if (this.#running === running) this.#running = null
    })
    this.#running = running
    return { finished: running }
  }

  /** Stops delivering: the attempt in flight is aborted and will be made again after a restart. */
  async stop(): Promise<void> {
    this.#stop.abort()
    await this.#running
  }

  /** The dead letters, oldest first. */
  async deadLetters(): Promise<DeadLetter[]> {
    const records = await this.#context.store.readState(deadPrefix(this.options.id))
    return records.map((record) => record.value as DeadLetter)
  }

  /**
   * Posts each dead letter once more, oldest first, removing those delivered; stops at the first
   * failure (which stays, with its new error). Returns how many were delivered and remain.
   */
  async replay(): Promise<{ delivered: number; remaining: number }> {
    const letters = await this.deadLetters()
    let delivered = 0
    for (const letter of letters) {
      const first = letter.events[0]?.position ?? 0
      const error = await this.#post(letter.delivery, letter.events, letter.attempts + 1, true)
      const key = deadKey(this.options.id, first)
      if (error !== null) {
        await this.#context.store.writeState([
          { key, value: { ...letter, attempts: letter.attempts + 1, lastError: error } },
        ])
        break
      }
      await this.#context.store.writeState([{ key, value: null }])
      delivered += 1
      this.#notify('replayed', letter.delivery, letter.attempts + 1, letter.events.length, 0)
    }
    return { delivered, remaining: letters.length - delivered }
  }

  /** Removes every dead letter; returns how many. */
  async discard(): Promise<number> {
    const records = await this.#context.store.readState(deadPrefix(this.options.id))
    await this.#context.store.writeState(records.map(({ key }) => ({ key, value: null })))
    return records.length
  }

  async #loop(): Promise<void> {
    const { feed, logger } = this.#context
    const { id, docs, maxBatchEvents } = this.options
    const signal = this.#stop.signal
    const filter = (entry: FeedEntry): boolean =>
      docs.some((pattern) => matchesPattern(pattern, entry.doc))
    while (!signal.aborted) {
      try {
        const read = await feed.read({
          after: this.#cursor,
          limit: maxBatchEvents,
          waitMs: 30_000,
          filter,
          signal,
        })
        if (signal.aborted) return
        if (read.entries.length > 0) {
          const delivered = await this.#deliver(read.entries)
          if (!delivered) return
        }
        if (read.cursor !== this.#cursor) await this.#advance(read.cursor, null)
      } catch (error) {
        if (signal.aborted) return
        await this.#recover(error).catch((again: unknown) =>
          logger.error('webhook recovery failed', { webhook: id, error: String(again) }),
        )
      }
    }
  }

  /** After a failed read: skip what retention removed (saying so), or wait a moment. */
  async #recover(error: unknown): Promise<void> {
    const { feed, logger } = this.#context
    const { id } = this.options
    if (error instanceof WeftError && error.code === 'CURSOR_EXPIRED') {
      const { prunedThrough } = await feed.bounds()
      logger.error('webhook fell behind the feed retention: changes were not delivered', {
        webhook: id,
        from: this.#cursor + 1,
        through: prunedThrough,
      })
      await this.#advance(prunedThrough, null)
      return
    }
    logger.error('webhook loop failed; retrying', { webhook: id, error: String(error) })
    await sleep(1000, this.#stop.signal)
  }

  /**
   * Posts `entries` until it works or attempts run out (then dead-letters them), and moves the
   * cursor past them. False when stopped first.
   */
  async #deliver(entries: readonly FeedEntry[]): Promise<boolean> {
    const { id, maxAttempts, initialBackoffMs, maxBackoffMs } = this.options
    const events = entries.map(feedEventJson)
    const last = entries.at(-1) as FeedEntry
    const delivery = `${id}:${entries[0]?.position ?? 0}-${last.position}`
    const signal = this.#stop.signal
    for (let attempt = 1; ; attempt++) {
      const started = performance.now()
      const error = await this.#post(delivery, events, attempt, false)
      const seconds = (performance.now() - started) / 1000
      if (error === null) {
        // Recorded even when stopping: the receiver has it, so it is not sent again.
        this.#failing = null
        this.#delivered += events.length
        await this.#advance(last.position, null)
        this.#notify('delivered', delivery, attempt, events.length, seconds)
        return !signal.aborted
      }
      if (signal.aborted) return false
      this.#failing = { delivery, attempt, lastError: error }
      this.#context.logger.warn('webhook delivery failed', {
        webhook: id,
        delivery,
        attempt,
        error,
      })
      this.#notify('failed', delivery, attempt, events.length, seconds, error)
      if (attempt >= maxAttempts) {
        const letter: DeadLetter = {
          delivery,
          events,
          attempts: attempt,
          lastError: error,
          failedAtMs: Date.now(),
        }
        this.#failing = null
        this.#deadLettered += events.length
        await this.#advance(last.position, letter)
        this.#context.logger.error('webhook delivery dead-lettered', {
          webhook: id,
          delivery,
          events: events.length,
        })
        this.#notify('dead-lettered', delivery, attempt, events.length, seconds, error)
        return true
      }
      // Full jitter: anywhere from 0 to the exponential bound, so failing endpoints do not retry in step.
      const bounds = { initialMs: initialBackoffMs, maxMs: maxBackoffMs }
      await sleep(fullJitterDelayMs(bounds, attempt - 1, this.#context.random), signal)
      if (signal.aborted) return false
    }
  }

  #post(
    delivery: string,
    events: DeadLetter['events'],
    attempt: number,
    replay: boolean,
  ): Promise<string | null> {
    const { fetch } = this.#context
    const request = { delivery, events, attempt, replay, signal: this.#stop.signal }
    return postWebhook(this.options, fetch, request)
  }

  #notify(
    type: WebhookEvent['type'],
    delivery: string,
    attempt: number,
    events: number,
    seconds: number,
    error?: string,
  ): void {
    const endpoint = this.options.id
    const event = { type, endpoint, delivery, attempt, events, seconds }
    this.#context.notify(error === undefined ? event : { ...event, error })
  }

  /** Moves the durable cursor to `position`, with a dead letter in the same write. */
  async #advance(position: number, letter: DeadLetter | null): Promise<void> {
    const { id } = this.options
    const records: Array<{ key: string; value: unknown }> = [
      { key: cursorKey(id), value: position },
    ]
    const first = letter?.events[0]?.position
    if (letter !== null && first !== undefined)
      records.push({ key: deadKey(id, first), value: letter })
    await this.#write(records)
    this.#cursor = position
  }

  /** Writes state records, fenced by the lock if any; a newer holder stops this loop. */
  async #write(records: ReadonlyArray<{ key: string; value: unknown }>): Promise<void> {
    if (this.#lock === null) return this.#context.store.writeState(records)
    if (await this.#lock.writeState(records)) return
    this.#stop.abort()
    throw new WeftError('UNAVAILABLE', `webhook ${this.options.id}: another relay took its lock`)
  }
}
