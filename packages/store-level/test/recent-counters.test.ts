import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FeedChange } from '@weft/server/store'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { LevelStore } from '../src/level-store.js'
import { RecentCounters } from '../src/recent-counters.js'

describe('RecentCounters', () => {
  it('keeps the most recent entries and forgets the oldest it may', () => {
    const busy = new Set(['a'])
    const counters = new RecentCounters(2, (name) => !busy.has(name))
    counters.set('a', 1)
    counters.set('b', 2)
    counters.set('c', 3)
    // 'a' is the oldest but busy: 'b' goes instead.
    expect([counters.get('a'), counters.get('b'), counters.get('c')]).toEqual([1, undefined, 3])
    busy.clear()
    counters.set('d', 4)
    expect([counters.get('a'), counters.get('c'), counters.get('d')]).toEqual([undefined, 3, 4])
    // Setting refreshes: 'c' becomes the newest, so 'd' is the one forgotten next.
    counters.set('c', 5)
    counters.set('e', 6)
    expect([counters.get('c'), counters.get('d'), counters.get('e')]).toEqual([5, undefined, 6])
    expect(counters.size).toBe(2)
  })

  it('grows past its size rather than forget what is still in use', () => {
    const counters = new RecentCounters(1, () => false)
    for (const [index, name] of ['a', 'b', 'c'].entries()) counters.set(name, index)
    expect(counters.size).toBe(3)
  })

  it('refuses a size that is not a positive integer', () => {
    expect(() => new RecentCounters(0, () => true)).toThrow(RangeError)
  })
})

describe('LevelStore remembering the counters of a few documents only', () => {
  it('numbers logs and feed entries without gaps or repeats when counters are forgotten', async () => {
    const path = await mkdtemp(join(tmpdir(), 'weft-recent-docs-'))
    const store = await LevelStore.open({ path, recentDocs: 2, historyMs: 3_600_000 })
    try {
      const names = ['a', 'b', 'c', 'd', 'e']
      const docs = new Map(names.map((name) => [name, new Y.Doc()]))
      const change: FeedChange = {
        kind: 'update',
        author: 'writer',
        correlationId: '',
        receivedAtMs: Date.now(),
        bytes: 1,
        events: [],
      }
      // Rounds of concurrent appends to five documents, each round touching them all, so
      // counters are forgotten and read back from disk all the time, also with writes in flight.
      for (let round = 0; round < 20; round++) {
        // Every document once, then every document again: a document's second append is
        // prepared after the other four pushed it out of the two most recent.
        const appends = [0, 1].flatMap((part) =>
          names.map((name) => {
            const doc = docs.get(name) as Y.Doc
            let update: Uint8Array = new Uint8Array()
            doc.once('update', (emitted: Uint8Array) => (update = emitted))
            doc.getArray('a').push([`${name}-${round}-${part}`])
            const meta = { author: 'writer', correlationId: '', receivedAtMs: Date.now() }
            return store.append(name, [{ update, meta }], [change])
          }),
        )
        const seqs = await Promise.all(appends)
        expect(new Set(seqs.map((seq, index) => `${names[index % 5]}:${seq}`)).size).toBe(10)
      }
      for (const name of names) {
        const stored = await store.load(name)
        expect(stored.headSeq).toBe(40)
        const replica = new Y.Doc()
        for (const update of stored.updates) Y.applyUpdate(replica, update)
        expect(replica.getArray('a').toArray()).toEqual(docs.get(name)?.getArray('a').toArray())
      }
      const feed = await store.readFeed(0, 1000)
      expect(feed.entries).toHaveLength(200)
      for (const name of names) {
        const seqs = feed.entries.filter((entry) => entry.doc === name).map((entry) => entry.seq)
        expect(seqs).toEqual(Array.from({ length: 40 }, (_, index) => index + 1))
      }
    } finally {
      await store.close()
      await rm(path, { recursive: true, force: true })
    }
  })

  it('refuses a recentDocs that is not a positive integer', async () => {
    await expect(LevelStore.open({ path: '/nonexistent', recentDocs: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    })
  })
})
