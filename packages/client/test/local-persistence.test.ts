import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { LocalPersistence } from '../src/local-persistence.js'
import type { LocalChange } from '../src/local-store.js'
import { MemoryLocalStore } from '../src/memory-local-store.js'

describe('LocalPersistence', () => {
  it('removes a whole replay of acknowledged edits from the stored outbox in one write', async () => {
    const store = new MemoryLocalStore()
    const doc = new Y.Doc()
    const errors: unknown[] = []
    const persistence = new LocalPersistence(
      store,
      'replay',
      { compactAfterUpdates: Number.MAX_SAFE_INTEGER },
      () => Y.encodeStateAsUpdate(doc),
      (error) => errors.push(error),
    )
    await persistence.load()
    // More refs than a spread call can pass as arguments.
    const count = 300_000
    const update = Y.encodeStateAsUpdate(doc)
    const records = Array.from({ length: count }, (_, index) => ({ ref: index + 1, update }))
    await persistence.recordLocal(records)
    expect((await store.load('replay')).outbox).toHaveLength(count)
    persistence.acknowledge(records.map((record) => record.ref))
    await persistence.flush()
    expect(errors).toEqual([])
    expect((await store.load('replay')).outbox).toEqual([])
  })

  it('replaces stored outbox records with their merge in one write, never writing queued ones', async () => {
    const writes: LocalChange[] = []
    const store = new MemoryLocalStore()
    const write = store.write.bind(store)
    store.write = (doc, change) => {
      writes.push(change)
      return write(doc, change)
    }
    const doc = new Y.Doc()
    const persistence = new LocalPersistence(
      store,
      'merged',
      { compactAfterUpdates: Number.MAX_SAFE_INTEGER },
      () => Y.encodeStateAsUpdate(doc),
      (error) => expect.unreachable(String(error)),
    )
    await persistence.load()
    const edit = (ref: number): { ref: number; update: Uint8Array } => ({
      ref,
      update: new Uint8Array([ref]),
    })
    await persistence.recordLocal([edit(1), edit(2)])
    // Edits 3 and 4 are queued in this tick when their merge with 1 and 2 replaces them.
    void persistence.recordLocal([edit(3), edit(4)])
    const merged = { ref: 4, update: new Uint8Array([9, 9]) }
    persistence.replaceOutbox([1, 2, 3], merged)
    await persistence.flush()
    expect(writes).toHaveLength(2)
    expect(writes[1]).toMatchObject({ outboxAdd: [merged], outboxRemove: [1, 2] })
    expect(writes[1]?.updates).toHaveLength(2)
    expect((await store.load('merged')).outbox).toEqual([merged])
  })
})
