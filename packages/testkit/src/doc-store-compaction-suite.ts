/** The compaction-ordering part of the DocStore conformance suite: stale compactions change nothing. */
import type { AppendEntry, DocStore, StoredDoc } from '@weft/server/store'
import { expect, it } from 'vitest'
import * as Y from 'yjs'
import { mulberry32 } from './fault-lane.js'
import { chooseSeed } from './seed.js'

const meta = { author: 'tester', correlationId: 'c-1', receivedAtMs: 1_700_000_000_000 }

/** An update setting `key` in the map `m`, from a fresh client. */
const keyUpdate = (clientID: number, key: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  doc.getMap('m').set(key, clientID)
  return Y.encodeStateAsUpdate(doc)
}

const entry = (update: Uint8Array, receivedAtMs = meta.receivedAtMs): AppendEntry => ({
  update,
  meta: { ...meta, receivedAtMs },
})

const docOf = (stored: StoredDoc): Y.Doc => {
  const doc = new Y.Doc()
  Y.transact(doc, () => {
    if (stored.snapshot !== null) Y.applyUpdate(doc, stored.snapshot)
    for (const update of stored.updates) Y.applyUpdate(doc, update)
  })
  return doc
}

const keysOf = (stored: StoredDoc): string[] => [...docOf(stored).getMap('m').keys()].sort()

/** Appends one record per key to `name`; returns the updates in order. */
const appendKeys = async (store: DocStore, name: string, keys: string[]): Promise<Uint8Array[]> => {
  const updates: Uint8Array[] = []
  for (const [index, key] of keys.entries()) {
    const update = keyUpdate(index + 1, key)
    updates.push(update)
    await store.append(name, [entry(update, Date.now())])
  }
  return updates
}

/** The state of `updates` as one snapshot. */
const snapshotOf = (updates: readonly Uint8Array[]): Uint8Array => {
  const doc = new Y.Doc()
  for (const update of updates) Y.applyUpdate(doc, update)
  return Y.encodeStateAsUpdate(doc)
}

/**
 * Registers the compaction-ordering tests inside the suite's `describe`: `open(historyMs)` gives
 * a fresh store. Several relays share a store and may compact one document at once, so a
 * compaction that is not ahead of the stored one must change nothing.
 */
export const compactionConformanceTests = (
  open: (historyMs?: number) => Promise<{ store: DocStore }>,
): void => {
  for (const historyMs of [0, 60_000]) {
    it(`a compaction older than the stored one leaves the newer snapshot and every later record (history ${historyMs} ms)`, async () => {
      const { store } = await open(historyMs)
      const updates = await appendKeys(store, 'doc', ['a', 'b', 'c', 'd', 'e'])
      const newer = snapshotOf(updates.slice(0, 3))
      await store.compact('doc', newer, 3)
      const before = await store.load('doc')
      const historyBefore = await store.history('doc')
      // Older, and as old: neither may replace the snapshot through 3 nor touch records 4 and 5.
      await store.compact('doc', snapshotOf(updates.slice(0, 2)), 2)
      await store.compact('doc', snapshotOf(updates.slice(0, 1)), 3)
      await store.compact('doc', snapshotOf([]), 0)
      const after = await store.load('doc')
      expect(after).toEqual(before)
      expect(Uint8Array.from(after.snapshot ?? [])).toEqual(newer)
      expect(after.updates).toEqual(updates.slice(3))
      expect(after.headSeq).toBe(5)
      expect(keysOf(after)).toEqual(['a', 'b', 'c', 'd', 'e'])
      expect(await store.history('doc')).toEqual(historyBefore)
      // A newer one still goes ahead, and numbering goes on.
      await store.compact('doc', snapshotOf(updates), 5)
      expect((await store.load('doc')).updates).toEqual([])
      expect(await store.append('doc', [entry(keyUpdate(9, 'f'))])).toBe(6)
    })
  }

  it('refuses a compaction beyond the head, and one of a document it does not hold', async () => {
    const { store } = await open()
    const updates = await appendKeys(store, 'doc', ['a', 'b'])
    const before = await store.load('doc')
    await store.compact('doc', snapshotOf([...updates, keyUpdate(7, 'phantom')]), 3)
    const after = await store.load('doc')
    expect(after).toEqual(before)
    expect(after.snapshot).toBeNull()
    expect(keysOf(after)).toEqual(['a', 'b'])
    expect(await store.append('doc', [entry(keyUpdate(8, 'c'))])).toBe(3)
    expect((await store.load('doc')).updates).toHaveLength(3)

    await store.compact('unknown', snapshotOf(updates), 1)
    expect(await store.load('unknown')).toEqual({
      snapshot: null,
      updates: [],
      headSeq: 0,
      logBytes: 0,
    })
    expect((await store.list()).map((doc) => doc.name)).toEqual(['doc'])
  })

  it('concurrent compactions of one document while appends go on lose nothing (seeded)', async () => {
    const seed = chooseSeed('DocStore compaction race')
    const random = mulberry32(seed)
    const { store } = await open()
    const acknowledged: string[] = []
    let writing = true
    const appends = (async () => {
      for (let index = 0; index < 150; index++) {
        const key = `w${index}`
        await store.append('raced', [entry(keyUpdate(index + 1, key))])
        acknowledged.push(key)
      }
      writing = false
    })()
    const compactor = async (id: number): Promise<void> => {
      // Loads held back and compacted later: their snapshots are older than the stored one.
      const held: StoredDoc[] = []
      while (writing) {
        const known = [...acknowledged]
        const loaded = await store.load('raced')
        const present = new Set(keysOf(loaded))
        for (const key of known) {
          if (!present.has(key))
            throw new Error(`seed=${seed}: compactor ${id} misses acknowledged "${key}"`)
        }
        held.push(loaded)
        const turns = Math.floor(random() * 3)
        for (let turn = 0; turn < turns; turn++) await new Promise((r) => setImmediate(r))
        const pick = random() < 0.3 ? held[Math.floor(random() * held.length)] : loaded
        const chosen = pick ?? loaded
        await store.compact('raced', Y.encodeStateAsUpdate(docOf(chosen)), chosen.headSeq)
        if (held.length > 8) held.shift()
      }
    }
    await Promise.all([appends, compactor(1), compactor(2), compactor(3)])
    const loaded = await store.load('raced')
    expect(loaded.headSeq, `seed=${seed}`).toBe(150)
    expect(keysOf(loaded), `seed=${seed}`).toEqual([...acknowledged].sort())
  })
}
