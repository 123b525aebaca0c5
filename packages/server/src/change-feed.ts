/**
 * ChangeFeed: reading the store's change feed with a cursor — validated, filtered, long-polled —
 * and telling listeners when new changes became durable; it also prunes by the retention window.
 */
import { WeftError } from '@weft/protocol'
import type { DocStore, FeedEntry } from './doc-store.js'
import { FeedConsumers } from './feed-consumers.js'
import type { Logger } from './logger.js'

/** How to read the feed. */
export interface FeedReadOptions {
  /**
   * Return entries after this position (a previous read's `cursor`). Default: from the oldest
   * entry kept. A position retention passed is `CURSOR_EXPIRED`; one past the head is
   * `INVALID_ARGUMENT` (it does not come from this feed).
   */
  readonly after?: number
  /** Most entries returned. Default 100, at most 1,000. */
  readonly limit?: number
  /** With nothing to return, wait this long (ms) for new changes. Default 0, at most 60,000. */
  readonly waitMs?: number
  /** Only entries for which this is true (documents a token may read, a pattern…). */
  readonly filter?: (entry: FeedEntry) => boolean
  /** Ends a wait early. */
  readonly signal?: AbortSignal
  /**
   * Who reads (a token subject): its cursor and the head are recorded in `consumers` as the
   * read starts and as it returns. Default: not recorded.
   */
  readonly consumer?: string
}

/** What a read returns. */
export interface FeedRead {
  readonly entries: readonly FeedEntry[]
  /**
   * Where to resume: after the last entry looked at, matching or not. Storing it once the
   * entries are processed, and reading after it, misses nothing and repeats nothing.
   */
  readonly cursor: number
  /** Newest position in the feed. */
  readonly head: number
}

/** Entries looked at per store read while filtering. */
const SCAN_PAGE = 500
/** Entries looked at by one read before it returns what it found (maybe nothing). */
const SCAN_BUDGET = 20_000

const MAX_LIMIT = 1000
const MAX_WAIT_MS = 60_000

/**
 * The feed over a store that keeps one (`feedRetentionMs > 0`). Reads see only durable changes,
 * in the order they became durable; a cursor older than what retention kept is refused with
 * `CURSOR_EXPIRED` rather than skipping silently.
 */
export class ChangeFeed {
  readonly #store: DocStore
  readonly #logger: Logger
  readonly #listeners = new Set<() => void>()
  readonly #pruner: ReturnType<typeof setInterval> | null
  readonly #headPollMs: number
  #poller: ReturnType<typeof setInterval> | null = null
  #polling = false
  #polledHead = -1
  /**
   * The readers that named themselves (`FeedReadOptions.consumer`), the 32 most recently seen:
   * how far behind the head each was at its last read.
   */
  readonly consumers = new FeedConsumers()

  /**
   * `headPollMs` above 0: while reads wait or listeners listen, the store's feed head is read
   * this often (ms) and a move wakes them — for relays sharing a store, where other relays'
   * changes never pass through this one's `changed()`. Default 0: only `changed()` wakes them.
   */
  constructor(store: DocStore, logger: Logger, pruneIntervalMs = 60_000, headPollMs = 0) {
    this.#store = store
    this.#logger = logger
    this.#headPollMs = headPollMs
    this.#pruner = this.enabled ? setInterval(() => void this.prune(), pruneIntervalMs) : null
    this.#pruner?.unref()
  }

  /** Whether the store keeps a feed. */
  get enabled(): boolean {
    return this.#store.feedRetentionMs > 0
  }

  /** New changes are durable: wakes waiting reads and listeners. */
  changed(): void {
    for (const listener of [...this.#listeners]) listener()
  }

  /** Calls `listener` whenever new changes became durable; returns a function that stops it. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener)
    this.#pollHead()
    return () => this.#listeners.delete(listener)
  }

  /** Reads entries after a cursor (see {@link FeedReadOptions}). */
  async read(options: FeedReadOptions = {}): Promise<FeedRead> {
    this.#assertEnabled()
    const { limit = 100, waitMs = 0, filter = () => true, signal } = options
    if (options.after !== undefined) check('after', options.after, 0, Number.MAX_SAFE_INTEGER)
    check('limit', limit, 1, MAX_LIMIT)
    check('waitMs', waitMs, 0, MAX_WAIT_MS)
    const bounds = await this.bounds()
    const after = options.after ?? bounds.prunedThrough
    if (after > bounds.head) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `cursor ${after} is past the feed's head (${bounds.head}): it does not come from this relay's feed`,
      )
    }
    const { consumer } = options
    if (consumer !== undefined) this.consumers.read(consumer, after, bounds.head)
    const deadline = Date.now() + waitMs
    let cursor = after
    for (;;) {
      // Registered before reading, so a change landing during the read is not missed.
      const woken = this.#nextChange(Math.max(0, deadline - Date.now()), signal)
      const found = await this.#scan(cursor, limit, filter)
      cursor = found.cursor
      if (found.entries.length > 0 || found.more || Date.now() >= deadline || signal?.aborted) {
        woken.cancel()
        if (consumer !== undefined) this.consumers.read(consumer, after, found.head)
        return { entries: found.entries, cursor, head: found.head }
      }
      await woken.promise
    }
  }

  /** The newest position, and the newest one retention removed (a cursor below it expired). */
  async bounds(): Promise<{ head: number; prunedThrough: number }> {
    this.#assertEnabled()
    const { head, prunedThrough } = await this.#store.readFeed(Number.MAX_SAFE_INTEGER, 1)
    return { head, prunedThrough }
  }

  /** Removes entries older than the retention window; resolves with how many. */
  async prune(nowMs = Date.now()): Promise<number> {
    try {
      const removed = await this.#store.pruneFeed(nowMs)
      if (removed > 0) this.#logger.debug('feed pruned', { removed })
      return removed
    } catch (error) {
      this.#logger.error('feed pruning failed', { error: String(error) })
      return 0
    }
  }

  /** Stops pruning and wakes every waiting read. */
  close(): void {
    if (this.#pruner !== null) clearInterval(this.#pruner)
    if (this.#poller !== null) clearInterval(this.#poller)
    this.#poller = null
    this.changed()
    this.#listeners.clear()
  }

  async #scan(
    after: number,
    limit: number,
    filter: (entry: FeedEntry) => boolean,
  ): Promise<{ entries: FeedEntry[]; cursor: number; head: number; more: boolean }> {
    const entries: FeedEntry[] = []
    let cursor = after
    let scanned = 0
    for (;;) {
      const page = await this.#store.readFeed(cursor, Math.min(SCAN_PAGE, SCAN_BUDGET - scanned))
      if (after < page.prunedThrough) {
        throw new WeftError(
          'CURSOR_EXPIRED',
          `the feed no longer holds changes after ${after}: retention removed up to ${page.prunedThrough}`,
        )
      }
      for (const entry of page.entries) {
        cursor = entry.position
        scanned += 1
        if (!filter(entry)) continue
        entries.push(entry)
        if (entries.length === limit) return { entries, cursor, head: page.head, more: true }
      }
      const more = cursor < page.head
      if (!more || scanned >= SCAN_BUDGET || page.entries.length === 0)
        return { entries, cursor, head: page.head, more: more && scanned >= SCAN_BUDGET }
    }
  }

  #nextChange(
    waitMs: number,
    signal: AbortSignal | undefined,
  ): { promise: Promise<void>; cancel: () => void } {
    let cancel = (): void => {}
    const promise = new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#listeners.delete(done)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, waitMs)
      this.#listeners.add(done)
      this.#pollHead()
      signal?.addEventListener('abort', done, { once: true })
      cancel = done
    })
    return { promise, cancel }
  }

  /** Starts reading the head while anyone waits, and stops once no one does. */
  #pollHead(): void {
    if (this.#headPollMs === 0 || this.#poller !== null || !this.enabled) return
    this.#poller = setInterval(() => {
      if (this.#listeners.size === 0) {
        clearInterval(this.#poller ?? undefined)
        this.#poller = null
        this.#polledHead = -1
        return
      }
      if (this.#polling) return
      this.#polling = true
      this.#store
        .readFeed(Number.MAX_SAFE_INTEGER, 1)
        .then(
          ({ head }) => {
            // A spurious wake is harmless (the read looks again), a missed one is not.
            if (head !== this.#polledHead) this.changed()
            this.#polledHead = head
          },
          (error: unknown) => this.#logger.debug('feed head poll failed', { error: String(error) }),
        )
        .finally(() => {
          this.#polling = false
        })
    }, this.#headPollMs)
    this.#poller.unref()
  }

  #assertEnabled(): void {
    if (!this.enabled) {
      throw new WeftError(
        'NOT_FOUND',
        'this relay keeps no change feed: give its store a history window (--history-ms above 0)',
      )
    }
  }
}

const check = (name: string, value: unknown, min: number, max: number): void => {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `${name} must be an integer from ${min} to ${max}, got ${String(value)}`,
    )
  }
}
