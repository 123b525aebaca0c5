/**
 * FeedConsumers: who reads the change feed over HTTP (by token subject), how far behind its head
 * each was at its last read, and when that was — for the most recently seen few only.
 */
import { WeftError } from '@weft/protocol'

/** One consumer of the feed as last seen. */
export interface FeedConsumer {
  /** Who reads: the token subject of its requests (`anonymous` in open mode). */
  readonly consumer: string
  /** Feed positions between the cursor it read after and the feed's head at that read. */
  readonly backlogEvents: number
  /** When its last read started or returned (ms since the epoch). */
  readonly lastReadAtMs: number
}

/** Options of {@link FeedConsumers}. */
export interface FeedConsumersOptions {
  /** Consumers kept; past it the least recently seen is forgotten. Default 32. */
  readonly maxConsumers?: number
  /** The clock, ms since the epoch. Default `Date.now`. */
  readonly now?: () => number
}

/** Default of {@link FeedConsumersOptions.maxConsumers}. */
export const DEFAULT_MAX_FEED_CONSUMERS = 32

/**
 * The last read of each consumer, at most `maxConsumers` of them (the most recently seen), so a
 * metrics label made of their names stays bounded however many subjects read the feed.
 */
export class FeedConsumers {
  readonly #maxConsumers: number
  readonly #now: () => number
  /** In order of last read, oldest first (a Map keeps insertion order). */
  readonly #seen = new Map<string, FeedConsumer>()

  constructor(options: FeedConsumersOptions = {}) {
    const { maxConsumers = DEFAULT_MAX_FEED_CONSUMERS, now = Date.now } = options
    if (!Number.isSafeInteger(maxConsumers) || maxConsumers < 1) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `maxConsumers must be a positive integer, got ${String(maxConsumers)}`,
      )
    }
    this.#maxConsumers = maxConsumers
    this.#now = now
  }

  /** `consumer` reads (or read) the feed after `cursor` while its head is at `head`. */
  read(consumer: string, cursor: number, head: number): void {
    this.#seen.delete(consumer)
    const backlogEvents = Math.max(0, head - cursor)
    this.#seen.set(consumer, { consumer, backlogEvents, lastReadAtMs: this.#now() })
    if (this.#seen.size > this.#maxConsumers) {
      const oldest = this.#seen.keys().next()
      if (oldest.done !== true) this.#seen.delete(oldest.value)
    }
  }

  /** Every consumer kept, the least recently seen first. */
  list(): FeedConsumer[] {
    return [...this.#seen.values()]
  }
}
