import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { MemoryLocalStore } from '../src/memory-local-store.js'
import {
  deliver,
  DOC,
  makeHandle,
  RelayDouble,
  syncWith,
  text,
  track,
  type,
} from './doc-handle-fixture.js'

/** An update that writes `value`, as an edit from an earlier run of the app. */
const storedEdit = (value: string): Uint8Array => {
  const doc = new Y.Doc()
  type(doc, value)
  return Y.encodeStateAsUpdate(doc)
}

describe('DocHandle sync', () => {
  it("opens once the local copy is loaded, and the relay's state syncs and is stored", async () => {
    const store = new MemoryLocalStore()
    const { handle, owner } = makeHandle({ store })
    expect(owner.sent).toEqual([])
    await handle.whenLoaded()
    const [open] = owner.take('open')
    expect(open?.stateVector).toEqual(Y.encodeStateVector(handle.doc))
    expect(handle.status).toEqual({ state: 'syncing' })
    const relay = new RelayDouble()
    type(relay.doc, 'from the relay')
    const synced: string[] = []
    handle.on('synced', () => synced.push('synced'))
    const [step2] = relay.answerOpen(open!)
    deliver(handle, [step2!])
    expect(text(handle.doc)).toBe('from the relay')
    expect(handle.synced).toBe(true)
    expect(handle.status).toEqual({ state: 'synced' })
    expect(synced).toEqual(['synced'])
    await handle.whenSynced()
    await handle.whenStored()
    const again = makeHandle({ store, ready: false })
    await again.handle.whenLoaded()
    expect(text(again.handle.doc)).toBe('from the relay')
  })

  it("mirrors the connection's status only until the document is open on it", async () => {
    const { handle, owner } = makeHandle({ ready: false })
    await handle.whenLoaded()
    expect(owner.sent).toEqual([])
    handle.connectionStatus({ state: 'connecting', attempt: 2, reason: 'relay down' })
    expect(handle.status).toEqual({ state: 'connecting', attempt: 2, reason: 'relay down' })
    owner.ready = true
    handle.connectionReady()
    expect(owner.take('open')).toHaveLength(1)
    handle.connectionStatus({ state: 'offline', reason: 'ignored' })
    expect(handle.status).toEqual({ state: 'syncing' })
  })

  it('answers sync step 1 with its outbox under the newest ref; live edits wait for that answer', async () => {
    const store = new MemoryLocalStore()
    const earlier = storedEdit('stored ')
    await store.write(DOC, { updates: [earlier], outboxAdd: [{ ref: 7, update: earlier }] })
    const { handle, owner } = makeHandle({ store })
    await handle.whenLoaded()
    expect(handle.pending).toBe(1)
    const [open] = owner.take('open')
    const relay = new RelayDouble()
    const [step2, step1, saved] = relay.answerOpen(open!)
    deliver(handle, [step2!])
    type(handle.doc, 'live')
    await handle.whenStored()
    expect(owner.take('update')).toEqual([])
    deliver(handle, [step1!, saved!])
    const [answer, ...more] = owner.take('sync-step-2')
    expect(more).toEqual([])
    expect(answer?.ref).toBe(8)
    relay.receive([answer!])
    expect(text(relay.doc)).toBe('stored live')
    type(handle.doc, '!')
    await handle.whenStored()
    expect(owner.take('update').map((update) => update.ref)).toEqual([9])
  })

  it('records edits made before the local copy loaded after the stored ones, and sends them', async () => {
    const store = new MemoryLocalStore()
    const earlier = storedEdit('stored ')
    await store.write(DOC, { updates: [earlier], outboxAdd: [{ ref: 3, update: earlier }] })
    const { handle, owner } = makeHandle({ store })
    type(handle.doc, 'early')
    expect(handle.pending).toBe(1)
    expect(handle.pendingBytes).toBeGreaterThan(0)
    const saved = track(handle.whenSaved())
    await handle.whenLoaded()
    expect(handle.pending).toBe(2)
    const relay = new RelayDouble()
    const [answer] = syncWith(handle, owner, relay).filter(
      (message) => message.type === 'sync-step-2',
    )
    expect(answer).toMatchObject({ ref: 4 })
    expect(text(relay.doc)).toContain('early')
    await handle.whenStored()
    expect((await store.load(DOC)).outbox.map((record) => record.ref)).toEqual([3, 4])
    deliver(handle, [{ type: 'saved', doc: DOC, ref: 3, stateVector: new Uint8Array([0]) }])
    await handle.whenStored()
    expect(saved.settled).toBe(false)
    deliver(handle, [{ type: 'saved', doc: DOC, ref: 4, stateVector: new Uint8Array([0]) }])
    await handle.whenStored()
    expect(saved.resolved).toBe(true)
    expect(handle.pending).toBe(0)
  })

  it('never reuses a ref, even one whose edit the relay already acknowledged', async () => {
    const store = new MemoryLocalStore()
    const earlier = storedEdit('saved long ago')
    await store.write(DOC, { updates: [earlier], outboxAdd: [{ ref: 7, update: earlier }] })
    await store.write(DOC, { outboxRemove: [7] })
    const { handle, owner } = makeHandle({ store })
    await handle.whenLoaded()
    expect(handle.pending).toBe(0)
    syncWith(handle, owner, new RelayDouble())
    type(handle.doc, 'new')
    await handle.whenStored()
    expect(owner.take('update').map((update) => update.ref)).toEqual([8])
  })

  it('reports pending once per tick, however many edits the tick made', async () => {
    const { handle } = makeHandle({ ready: false })
    await handle.whenLoaded()
    const pending: number[] = []
    handle.on('pending', (count) => pending.push(count))
    type(handle.doc, 'a')
    type(handle.doc, 'b')
    type(handle.doc, 'c')
    expect(pending).toEqual([])
    await handle.whenStored()
    expect(pending).toEqual([3])
  })

  it('settles the outbox on saved, with the latency and time from its clock', async () => {
    const { handle, owner, clock, store } = makeHandle()
    await handle.whenLoaded()
    syncWith(handle, owner, new RelayDouble())
    expect(handle.lastSavedAt).toBeNull()
    clock.advance(1_000)
    type(handle.doc, 'a')
    const saved = track(handle.whenSaved())
    await handle.whenStored()
    expect(owner.take('update').map((update) => update.ref)).toEqual([1])
    clock.advance(250)
    const events: unknown[] = []
    const pending: number[] = []
    handle.on('saved', (event) => events.push(event))
    handle.on('pending', (count) => pending.push(count))
    deliver(handle, [{ type: 'saved', doc: DOC, ref: 1, stateVector: new Uint8Array([0]) }])
    expect(events).toEqual([{ ref: 1, pending: 0, latencyMs: 250 }])
    expect(handle.lastSavedAt).toBe(clock.wallNow())
    expect(handle.pending).toBe(0)
    await handle.whenStored()
    expect(saved.resolved).toBe(true)
    expect(pending).toEqual([0])
    expect((await store.load(DOC)).outbox).toEqual([])
  })
})
