import { MemoryStore } from '@weft/server'
import { HeldStore, startTestRelay, testClient, until, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

let relay: TestRelay | undefined

afterEach(async () => {
  await relay?.close()
  relay = undefined
})

describe('Relay.drift()', () => {
  it('counts updates applied but not durable while an append is held, and none once it lands', async () => {
    const store = new HeldStore()
    relay = await startTestRelay({ store })
    const handle = testClient(relay).open('doc')
    const watcher = testClient(relay).open('doc')
    await Promise.all([handle.whenSynced(), watcher.whenSynced()])
    expect(relay.relay.drift()).toMatchObject({
      unpersistedUpdates: 0,
      unpersistedBytes: 0,
      oldestUnpersistedAtMs: null,
    })

    store.hold()
    const startedMs = Date.now()
    const first = store.appending()
    handle.doc.getText('t').insert(0, 'one')
    await first
    const inFlight = relay.relay.drift()
    expect(inFlight.unpersistedUpdates).toBe(1)
    expect(inFlight.oldestUnpersistedAtMs).toBeGreaterThanOrEqual(startedMs)
    expect(inFlight.oldestUnpersistedAtMs).toBeLessThanOrEqual(Date.now())
    // Two more edits wait behind the held append: once a second client has them, the relay has
    // applied them (it fans out, then queues, in one turn).
    handle.doc.getText('t').insert(3, ' two')
    handle.doc.getText('t').insert(7, ' three')
    await until(
      watcher.doc,
      'update',
      () => watcher.doc.getText('t').toString() === 'one two three',
    )
    const waiting = relay.relay.drift()
    expect(waiting.unpersistedUpdates).toBeGreaterThanOrEqual(2)
    // The oldest is still the first edit's, however many wait behind it.
    expect(waiting.oldestUnpersistedAtMs).toBe(inFlight.oldestUnpersistedAtMs)

    store.release()
    await relay.relay.whenDurable()
    const stored = await store.load('doc')
    const storedBytes = stored.updates.reduce((sum, update) => sum + update.length, 0)
    expect(relay.relay.drift()).toMatchObject({
      unpersistedUpdates: 0,
      unpersistedBytes: 0,
      oldestUnpersistedAtMs: null,
      uncompactedEntries: stored.updates.length,
      uncompactedBytes: storedBytes,
    })
    expect(inFlight.unpersistedBytes).toBe(stored.updates[0]?.length)
    expect(waiting.unpersistedUpdates).toBe(stored.updates.length)
    expect(waiting.unpersistedBytes).toBe(storedBytes)
  })

  it('counts log entries since the last compaction per document: their sum, the largest, and none once compacted', async () => {
    relay = await startTestRelay({ store: new MemoryStore(), compactAfterUpdates: 1_000 })
    const { documents, admin } = relay.relay
    const writeRecords = async (name: string, count: number): Promise<number> => {
      let bytes = 0
      const doc = new Y.Doc()
      for (let index = 0; index < count; index += 1) {
        const before = Y.encodeStateVector(doc)
        doc.getArray<number>('a').push([index])
        const update = Y.encodeStateAsUpdate(doc, before)
        bytes += update.length
        // Each resolves once durable: one append, one log entry each.
        await documents.applyUpdate(name, update, { service: 'writer' })
      }
      return bytes
    }
    // Kept loaded by a peer: a room without one unloads (and compacts) after its grace period.
    const peers = [testClient(relay).open('a'), testClient(relay).open('b')]
    await Promise.all(peers.map((peer) => peer.whenSynced()))
    const aBytes = await writeRecords('a', 3)
    const bBytes = await writeRecords('b', 5)
    expect(relay.relay.drift()).toMatchObject({
      uncompactedEntries: 8,
      maxUncompactedEntries: 5,
      uncompactedBytes: aBytes + bBytes,
      maxUncompactedBytes: Math.max(aBytes, bBytes),
    })
    expect(await admin.compact('b')).toEqual({ folded: 5 })
    expect(relay.relay.drift()).toMatchObject({
      uncompactedEntries: 3,
      maxUncompactedEntries: 3,
      uncompactedBytes: aBytes,
    })
    expect(await admin.compact('a')).toEqual({ folded: 3 })
    expect(relay.relay.drift()).toMatchObject({ uncompactedEntries: 0, uncompactedBytes: 0 })
  })
})
