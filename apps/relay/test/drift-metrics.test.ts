import type { FeedConsumer, RelayDrift } from '@weft/server'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { registerDriftGauges, registerFeedConsumerGauges } from '../src/drift-metrics.js'

const drift: RelayDrift = {
  unpersistedUpdates: 7,
  unpersistedBytes: 900,
  oldestUnpersistedAtMs: 40_000,
  uncompactedEntries: 120,
  uncompactedBytes: 64_000,
  maxUncompactedEntries: 100,
  maxUncompactedBytes: 50_000,
}

describe('drift gauges', () => {
  it('serve the relay’s drift, the oldest unpersisted update’s age, and read it once a scrape', async () => {
    const registry = new Registry()
    let reads = 0
    let current = drift
    registerDriftGauges(
      registry,
      () => {
        reads += 1
        return current
      },
      () => 55_000,
    )
    const text = await registry.metrics()
    expect(text).toContain('weft_unpersisted_updates 7')
    expect(text).toContain('weft_unpersisted_bytes 900')
    expect(text).toContain('weft_unpersisted_oldest_age_seconds 15')
    expect(text).toContain('weft_uncompacted_log_entries 120')
    expect(text).toContain('weft_uncompacted_log_entries_max 100')
    expect(text).toContain('weft_uncompacted_log_bytes 64000')
    expect(text).toContain('weft_uncompacted_log_bytes_max 50000')
    expect(reads).toBe(1)
    current = { ...drift, unpersistedUpdates: 0, oldestUnpersistedAtMs: null }
    const next = await registry.metrics()
    expect(reads).toBe(2)
    expect(next).toContain('weft_unpersisted_updates 0')
    expect(next).toContain('weft_unpersisted_oldest_age_seconds 0')
  })

  it('serve each feed consumer kept, and drop the ones forgotten', async () => {
    const registry = new Registry()
    let consumers: FeedConsumer[] = [
      { consumer: 'indexer', backlogEvents: 30, lastReadAtMs: 50_000 },
      { consumer: 'audit', backlogEvents: 0, lastReadAtMs: 54_500 },
    ]
    registerFeedConsumerGauges(
      registry,
      () => consumers,
      () => 55_000,
    )
    const text = await registry.metrics()
    expect(text).toContain('weft_feed_consumer_backlog_events{consumer="indexer"} 30')
    expect(text).toContain('weft_feed_consumer_last_read_age_seconds{consumer="indexer"} 5')
    expect(text).toContain('weft_feed_consumer_backlog_events{consumer="audit"} 0')
    expect(text).toContain('weft_feed_consumer_last_read_age_seconds{consumer="audit"} 0.5')
    consumers = consumers.slice(1)
    expect(await registry.metrics()).not.toContain('indexer')
  })
})
