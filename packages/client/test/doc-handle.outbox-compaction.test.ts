/** A handle's waiting edits merged into one entry: stored in one write, counted, saved, refused, restored. */
import { describe, expect, it } from 'vitest'
import type { LocalStore } from '../src/local-store.js'
import type { OutboxState } from '../src/outbox-watch.js'
import {
  DOC,
  deliver,
  makeHandle,
  RelayDouble,
  syncWith,
  text,
  track,
  type,
} from './doc-handle-fixture.js'

const EVERYTHING = new Uint8Array([0])
/** Merge once more than three entries wait. */
const outboxCompaction = { maxEntries: 3, maxBytes: 1 << 20 }

const storedRefs = async (store: LocalStore): Promise<number[]> =>
  (await store.load(DOC)).outbox.map((record) => record.ref)

/** A synced handle that merges, and sent edits 1 to 4 one by one, merged after the fourth. */
const typedAndMerged = async () => {
  const fixture = makeHandle({ outboxCompaction })
  const { handle, owner } = fixture
  await handle.whenLoaded()
  const relay = new RelayDouble()
  syncWith(handle, owner, relay)
  const saved: ReturnType<typeof track>[] = []
  for (const value of ['a', 'b', 'c', 'd']) {
    type(handle.doc, value)
    saved.push(track(handle.whenSaved()))
    await handle.whenStored()
  }
  expect(owner.take('update').map((update) => update.ref)).toEqual([1, 2, 3, 4])
  expect(await storedRefs(fixture.store)).toEqual([4])
  expect(handle.pending).toBe(4)
  return { ...fixture, relay, saved }
}

describe('outbox compaction', () => {
  it('merges offline edits in one local write, counting and dating each of them', async () => {
    const { handle, clock, store } = makeHandle({ ready: false, outboxCompaction })
    await handle.whenLoaded()
    const startedAt = clock.wallNow()
    const reports: OutboxState[] = []
    for (const value of ['a', 'b', 'c', 'd', 'e']) {
      type(handle.doc, value)
      await handle.whenStored()
      reports.push(handle.outbox)
      clock.advance(1_000)
    }
    expect(await storedRefs(store)).toEqual([4, 5])
    expect(reports.map((state) => state.pending)).toEqual([1, 2, 3, 4, 5])
    expect(reports.every((state) => state.oldestPendingAt === startedAt)).toBe(true)
    // The merge holds the whole document: fewer bytes than its edits' own updates.
    expect(reports[3]?.pendingBytes).toBeLessThan(reports[2]?.pendingBytes as number)
    const stored = await store.load(DOC)
    expect(stored.lastRef).toBe(5)
    expect(handle.pendingBytes).toBe(
      stored.outbox.reduce((sum, record) => sum + record.update.length, 0),
    )
  })

  it('restores the merged entry after a restart and sends it like any other', async () => {
    const first = makeHandle({ ready: false, outboxCompaction })
    await first.handle.whenLoaded()
    for (const value of ['a', 'b', 'c', 'd', 'e']) {
      type(first.handle.doc, value)
      await first.handle.whenStored()
    }
    await first.handle.close()
    const { handle, owner, store } = makeHandle({ store: first.store, outboxCompaction })
    await handle.whenLoaded()
    expect(text(handle.doc)).toBe('abcde')
    // The store keeps no counts: the merged entry counts as one edit after a restart.
    expect(handle.pending).toBe(2)
    const relay = new RelayDouble()
    const reply = syncWith(handle, owner, relay)
    expect(reply.find((message) => message.type === 'sync-step-2')).toMatchObject({ ref: 5 })
    expect(text(relay.doc)).toBe('abcde')
    deliver(handle, [{ type: 'saved', doc: DOC, ref: 5, stateVector: EVERYTHING }])
    expect(handle.pending).toBe(0)
    await handle.whenStored()
    expect(await storedRefs(store)).toEqual([])
  })

  it('is not settled by a saved ref between the refs it merged, only by the newest', async () => {
    const { handle, store, saved } = await typedAndMerged()
    deliver(handle, [{ type: 'saved', doc: DOC, ref: 2, stateVector: EVERYTHING }])
    await handle.whenStored()
    expect(handle.pending).toBe(2)
    expect(handle.outbox.pending).toBe(2)
    expect(saved.map((each) => each.resolved)).toEqual([true, true, false, false])
    expect(await storedRefs(store)).toEqual([4])
    deliver(handle, [{ type: 'saved', doc: DOC, ref: 4, stateVector: EVERYTHING }])
    await handle.whenStored()
    expect(handle.pending).toBe(0)
    expect(saved.every((each) => each.resolved)).toBe(true)
    expect(await storedRefs(store)).toEqual([])
  })

  it('sets the whole merged entry aside when one of its edits is refused', async () => {
    const { handle, owner, relay, store, saved } = await typedAndMerged()
    deliver(handle, [{ type: 'saved', doc: DOC, ref: 1, stateVector: EVERYTHING }])
    deliver(handle, [{ type: 'rejected', doc: DOC, ref: 3, code: 'BAD_UPDATE', reason: 'no' }])
    expect(handle.rejected).toMatchObject([
      { ref: 4, code: 'BAD_UPDATE', reason: 'it holds edit 3, which was refused: no' },
    ])
    expect(handle.pending).toBe(0)
    await handle.whenStored()
    expect(saved[0]?.resolved).toBe(true)
    expect(saved.slice(1).map((each) => (each.error as { code?: string }).code)).toEqual([
      'BAD_UPDATE',
      'BAD_UPDATE',
      'BAD_UPDATE',
    ])
    expect(await storedRefs(store)).toEqual([])
    // Nothing is merged while the document still holds what was set aside.
    for (const value of ['w', 'x', 'y', 'z']) type(handle.doc, value)
    await handle.whenStored()
    expect(await storedRefs(store)).toEqual([5, 6, 7, 8])
    const [open] = owner.take('open')
    expect(open?.stateVector).toEqual(EVERYTHING)
    type(relay.doc, 'relay ')
    deliver(handle, relay.answerOpen(open!))
    await handle.whenStored()
    expect(text(handle.doc)).toBe('relay ')
    // Rebuilt: the waiting edits are merged again, from the rebuilt document.
    expect(await storedRefs(store)).toEqual([8])
    expect(handle.pending).toBe(4)
  })
})
