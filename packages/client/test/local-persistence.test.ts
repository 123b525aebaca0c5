import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { LocalPersistence } from '../src/local-persistence.js'
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
})
