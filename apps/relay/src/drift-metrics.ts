/**
 * The Prometheus gauges of drift: how far the relay's loaded documents run ahead of its store
 * (updates not durable yet, logs not compacted yet) and how far behind the change feed's head
 * its HTTP consumers read. Both are read from the relay's memory when `/metrics` is scraped:
 * one pass over the loaded rooms and one over at most 32 consumers, no store access.
 */
import type { FeedConsumer, RelayDrift } from '@weft/server'
import { Gauge, type Registry } from 'prom-client'

/**
 * Registers `weft_unpersisted_updates`, `weft_unpersisted_bytes`,
 * `weft_unpersisted_oldest_age_seconds`, `weft_uncompacted_log_entries` (and `_max`) and
 * `weft_uncompacted_log_bytes` (and `_max`), read from `drift` (`relay.drift()`) once per scrape.
 */
export const registerDriftGauges = (
  registry: Registry,
  drift: () => RelayDrift,
  now: () => number = Date.now,
): void => {
  // One pass over the rooms per scrape, shared by the gauges: the registry calls every collect
  // synchronously before its first await, so the read is forgotten at the next microtask.
  let read: RelayDrift | null = null
  const current = (): RelayDrift => {
    if (read === null) {
      read = drift()
      queueMicrotask(() => (read = null))
    }
    return read
  }
  const gauge = (name: string, help: string, value: (each: RelayDrift) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value(current()))
      },
    })
  }
  gauge(
    'weft_unpersisted_updates',
    'Updates applied to loaded documents but not yet durable in the store (queued or being appended)',
    (each) => each.unpersistedUpdates,
  )
  gauge(
    'weft_unpersisted_bytes',
    'Bytes of the updates applied to loaded documents but not yet durable in the store',
    (each) => each.unpersistedBytes,
  )
  gauge(
    'weft_unpersisted_oldest_age_seconds',
    'Seconds since the oldest update not yet durable in the store was received (0 with none)',
    (each) =>
      each.oldestUnpersistedAtMs === null
        ? 0
        : Math.max(0, (now() - each.oldestUnpersistedAtMs) / 1000),
  )
  gauge(
    'weft_uncompacted_log_entries',
    'Log entries of the loaded documents not yet compacted into their snapshots, summed',
    (each) => each.uncompactedEntries,
  )
  gauge(
    'weft_uncompacted_log_entries_max',
    'Log entries not yet compacted of the loaded document with the most',
    (each) => each.maxUncompactedEntries,
  )
  gauge(
    'weft_uncompacted_log_bytes',
    'Bytes of the log entries of the loaded documents not yet compacted, summed',
    (each) => each.uncompactedBytes,
  )
  gauge(
    'weft_uncompacted_log_bytes_max',
    'Bytes of log entries not yet compacted of the loaded document with the most',
    (each) => each.maxUncompactedBytes,
  )
}

/**
 * Registers `weft_feed_consumer_backlog_events` and `weft_feed_consumer_last_read_age_seconds`,
 * labelled `consumer` by token subject: the change feed's HTTP readers (`/v1/feed`,
 * `/v1/feed/stream`), the 32 most recently seen (`relay.feed.consumers`).
 */
export const registerFeedConsumerGauges = (
  registry: Registry,
  consumers: () => readonly FeedConsumer[],
  now: () => number = Date.now,
): void => {
  const gauge = (name: string, help: string, value: (each: FeedConsumer) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['consumer'],
      registers: [registry],
      collect() {
        this.reset()
        for (const each of consumers()) this.set({ consumer: each.consumer }, value(each))
      },
    })
  }
  gauge(
    'weft_feed_consumer_backlog_events',
    "Change-feed positions between an HTTP feed consumer's cursor and the feed's head at its last read",
    (each) => each.backlogEvents,
  )
  gauge(
    'weft_feed_consumer_last_read_age_seconds',
    'Seconds since an HTTP feed consumer last read the change feed',
    (each) => Math.max(0, (now() - each.lastReadAtMs) / 1000),
  )
}
