import {
  HeldStore,
  scopedToken,
  startTestRelay,
  testClient,
  until,
  type TestRelay,
} from '@weft/testkit'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { registerDriftGauges } from '../src/drift-metrics.js'
import { observedClient, startObservedRelay, type ObservedRelay } from './metrics-relay.js'
import { scrape, untilScraped } from './metrics-scrape.js'

/** A registry's samples as a map from `name{labels}` to value. */
const samplesOf = async (registry: Registry): Promise<Map<string, number>> => {
  const samples = new Map<string, number>()
  for (const line of (await registry.metrics()).split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue
    const at = line.lastIndexOf(' ')
    samples.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return samples
}

let relay: TestRelay | undefined
let observed: ObservedRelay | undefined

afterEach(async () => {
  await relay?.close()
  relay = undefined
  await observed?.close()
  observed = undefined
})

describe('drift metrics', () => {
  it('serve updates not yet durable and the oldest one’s age while an append is held, then 0', async () => {
    const store = new HeldStore()
    relay = await startTestRelay({ store })
    let nowMs = 0
    const registry = new Registry()
    registerDriftGauges(
      registry,
      () => relay?.relay.drift() ?? expect.fail('no relay'),
      () => nowMs,
    )
    const writer = testClient(relay).open('doc')
    const watcher = testClient(relay).open('doc')
    await Promise.all([writer.whenSynced(), watcher.whenSynced()])

    store.hold()
    const before = Date.now()
    const held = store.appending()
    writer.doc.getText('t').insert(0, 'one')
    await held
    const after = Date.now()
    nowMs = after + 10_000
    let samples = await samplesOf(registry)
    expect(samples.get('weft_unpersisted_updates')).toBe(1)
    const firstAge = samples.get('weft_unpersisted_oldest_age_seconds') ?? Number.NaN
    expect(firstAge).toBeGreaterThanOrEqual(10)
    expect(firstAge).toBeLessThanOrEqual(10 + (after - before) / 1000)
    // Another edit waits behind the held append; the oldest is still the first one.
    writer.doc.getText('t').insert(3, ' two')
    await until(watcher.doc, 'update', () => watcher.doc.getText('t').toString() === 'one two')
    nowMs += 20_000
    samples = await samplesOf(registry)
    expect(samples.get('weft_unpersisted_updates')).toBe(2)
    expect(samples.get('weft_unpersisted_oldest_age_seconds')).toBeCloseTo(firstAge + 20, 6)
    const heldBytes = samples.get('weft_unpersisted_bytes')

    store.release()
    await relay.relay.whenDurable()
    const stored = await store.load('doc')
    samples = await samplesOf(registry)
    expect(samples.get('weft_unpersisted_updates')).toBe(0)
    expect(samples.get('weft_unpersisted_bytes')).toBe(0)
    expect(samples.get('weft_unpersisted_oldest_age_seconds')).toBe(0)
    expect(heldBytes).toBe(stored.updates.reduce((sum, update) => sum + update.length, 0))
    expect(samples.get('weft_uncompacted_log_entries')).toBe(stored.updates.length)
  })

  it('serve the uncompacted log of a document written N times, 0 once compaction folds it', async () => {
    observed = await startObservedRelay(['--compact-after-updates', '5'])
    const { url } = observed.running
    const client = observedClient(observed, 'ana')
    const notes = client.open('notes/1')
    await notes.whenSynced()
    // Each edit saved before the next: one append, one log entry each.
    for (const word of ['a', 'b', 'c', 'd']) {
      notes.doc.getText('t').insert(0, word)
      await notes.whenSaved()
    }
    const four = await scrape(url)
    expect(four.get('weft_uncompacted_log_entries')).toBe(4)
    expect(four.get('weft_uncompacted_log_entries_max')).toBe(4)
    expect(four.get('weft_uncompacted_log_bytes')).toBeGreaterThan(0)
    expect(four.get('weft_unpersisted_updates')).toBe(0)
    expect(four.get('weft_compactions_total{result="ok"}')).toBe(0)
    // The fifth reaches --compact-after-updates: the log is folded into the snapshot.
    notes.doc.getText('t').insert(0, 'e')
    await notes.whenSaved()
    const folded = await untilScraped(
      url,
      (value) => value('weft_compactions_total{result="ok"}') === 1,
    )
    expect(folded.get('weft_uncompacted_log_entries')).toBe(0)
    expect(folded.get('weft_uncompacted_log_bytes')).toBe(0)
    expect(folded.get('weft_uncompacted_log_entries_max')).toBe(0)
  })

  it('serve how far behind the feed head each HTTP consumer read, by token subject', async () => {
    observed = await startObservedRelay()
    const { url } = observed.running
    const client = observedClient(observed, 'ana')
    const notes = client.open('notes/1')
    await notes.whenSynced()
    for (const word of ['a', 'b', 'c', 'd']) {
      notes.doc.getText('t').insert(0, word)
      await notes.whenSaved()
    }
    const token = await scopedToken('indexer', [{ pattern: 'notes/*', access: 'read' }])
    const get = async (path: string): Promise<Record<string, string>> => {
      const response = await fetch(`${url}${path}`, {
        headers: { authorization: `Bearer ${token}` },
      })
      expect(response.status).toBe(200)
      return (await response.json()) as Record<string, string>
    }
    const head = Number((await get('/v1/feed/head')).head)
    expect(head).toBeGreaterThanOrEqual(4)
    const before = await scrape(url)
    expect([...before.keys()].filter((key) => key.includes('consumer='))).toEqual([])

    // Reading at head − 3, one event at a time: 3 behind.
    await get(`/v1/feed?after=${head - 3}&limit=1`)
    let samples = await scrape(url)
    expect(samples.get('weft_feed_consumer_backlog_events{consumer="indexer"}')).toBe(3)
    const age = samples.get('weft_feed_consumer_last_read_age_seconds{consumer="indexer"}') ?? -1
    expect(age).toBeGreaterThanOrEqual(0)
    expect(age).toBeLessThan(5)
    await get(`/v1/feed?after=${head}`)
    samples = await scrape(url)
    expect(samples.get('weft_feed_consumer_backlog_events{consumer="indexer"}')).toBe(0)

    // A stream from the oldest event reads until it is at the head.
    const stop = new AbortController()
    const streamer = await scopedToken('streamer', [{ pattern: '**', access: 'read' }])
    const stream = await fetch(`${url}/v1/feed/stream?after=0`, {
      headers: { authorization: `Bearer ${streamer}` },
      signal: stop.signal,
    })
    expect(stream.status).toBe(200)
    let streamed: Map<string, number>
    try {
      streamed = await untilScraped(
        url,
        (value) => value('weft_feed_consumer_backlog_events{consumer="streamer"}') === 0,
      )
    } finally {
      stop.abort()
    }
    // Each consumer is its own series; the first one's last read stands.
    expect(streamed.get('weft_feed_consumer_backlog_events{consumer="indexer"}')).toBe(0)
    expect(
      streamed.get('weft_feed_consumer_last_read_age_seconds{consumer="streamer"}'),
    ).toBeLessThan(5)
  })
})
