import { describe, expect, it } from 'vitest'
import { FeedConsumers } from '../src/feed-consumers.js'

describe('FeedConsumers', () => {
  it('keeps each consumer’s positions behind the head and the time of its last read', () => {
    let nowMs = 1_000
    const consumers = new FeedConsumers({ now: () => nowMs })
    consumers.read('indexer', 40, 100)
    nowMs = 2_000
    consumers.read('audit', 100, 100)
    expect(consumers.list()).toEqual([
      { consumer: 'indexer', backlogEvents: 60, lastReadAtMs: 1_000 },
      { consumer: 'audit', backlogEvents: 0, lastReadAtMs: 2_000 },
    ])
    nowMs = 3_000
    consumers.read('indexer', 100, 120)
    expect(consumers.list()).toEqual([
      { consumer: 'audit', backlogEvents: 0, lastReadAtMs: 2_000 },
      { consumer: 'indexer', backlogEvents: 20, lastReadAtMs: 3_000 },
    ])
  })

  it('forgets the least recently seen past maxConsumers (32 by default)', () => {
    const consumers = new FeedConsumers({ now: () => 0 })
    for (let index = 0; index < 40; index += 1) consumers.read(`s${index}`, 0, 1)
    // s8 reads again: s9 is now the least recently seen.
    consumers.read('s8', 1, 1)
    consumers.read('s40', 1, 1)
    const names = consumers.list().map((each) => each.consumer)
    expect(names).toHaveLength(32)
    expect(names.slice(0, 2)).toEqual(['s10', 's11'])
    expect(names.slice(-2)).toEqual(['s8', 's40'])
    const few = new FeedConsumers({ maxConsumers: 2 })
    for (const name of ['a', 'b', 'c']) few.read(name, 0, 0)
    expect(few.list().map((each) => each.consumer)).toEqual(['b', 'c'])
  })

  it('refuses a bad maxConsumers', () => {
    expect(() => new FeedConsumers({ maxConsumers: 0 })).toThrow(/maxConsumers/)
    expect(() => new FeedConsumers({ maxConsumers: 1.5 })).toThrow(/maxConsumers/)
  })
})
