import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  ACK_TIMEOUT_MS,
  deliver,
  DOC,
  makeHandle,
  RelayDouble,
  syncWith,
  text,
  track,
  type,
} from './doc-handle-fixture.js'

describe('DocHandle connection', () => {
  it('forgets the connection when it goes down, and reopens on the next with the edits it lacks', async () => {
    const { handle, owner, clock } = makeHandle()
    await handle.whenLoaded()
    const relay = new RelayDouble()
    syncWith(handle, owner, relay)
    type(handle.doc, 'lost with the connection')
    await handle.whenStored()
    expect(owner.take('update')).toHaveLength(1)
    owner.ready = false
    handle.connectionDown()
    expect(handle.synced).toBe(false)
    expect(clock.timersWaiting).toBe(0)
    clock.advance(2 * ACK_TIMEOUT_MS)
    owner.ready = true
    handle.connectionReady()
    expect(handle.status).toEqual({ state: 'syncing' })
    const [open] = owner.take('open')
    const [step2, step1] = relay.answerOpen(open!)
    deliver(handle, [step2!, step1!])
    const [answer] = owner.take('sync-step-2')
    expect(answer?.ref).toBe(1)
    relay.receive([answer!])
    expect(text(relay.doc)).toBe('lost with the connection')
    // Latency counts from the send on this connection, not the one on the connection that went.
    clock.advance(40)
    const saved: unknown[] = []
    handle.on('saved', (event) => saved.push(event))
    const durable = Y.encodeStateVector(relay.doc)
    deliver(handle, [{ type: 'saved', doc: DOC, ref: 0, stateVector: durable }])
    expect(saved).toEqual([{ ref: 0, pending: 0, latencyMs: 40 }])
  })

  it('pauses: closes the document on the relay and keeps edits local until resumed', async () => {
    const { handle, owner } = makeHandle()
    await handle.whenLoaded()
    const relay = new RelayDouble()
    syncWith(handle, owner, relay)
    handle.pause()
    expect(owner.drain()).toEqual([{ type: 'close', doc: DOC }])
    expect(handle.paused).toBe(true)
    expect(handle.synced).toBe(false)
    expect(handle.status).toEqual({ state: 'offline', reason: 'paused' })
    type(handle.doc, 'while paused')
    await handle.whenStored()
    handle.connectionReady()
    expect(owner.sent).toEqual([])
    expect(handle.pending).toBe(1)
    handle.resume()
    expect(handle.paused).toBe(false)
    syncWith(handle, owner, relay)
    expect(text(relay.doc)).toBe('while paused')
    expect(handle.synced).toBe(true)
  })

  it('resumes without opening while the connection is not ready', async () => {
    const { handle, owner } = makeHandle()
    await handle.whenLoaded()
    handle.pause()
    owner.drain()
    owner.ready = false
    handle.resume()
    expect(owner.sent).toEqual([])
    owner.ready = true
    handle.connectionReady()
    expect(owner.take('open')).toHaveLength(1)
  })

  it('close rejects waiters with CLOSED, tells the relay, releases the handle and stops its timers', async () => {
    const { handle, owner, clock } = makeHandle()
    await handle.whenLoaded()
    expect(owner.take('open')).toHaveLength(1)
    // An update whose dependency is missing arms the repair timer.
    const other = new Y.Doc()
    const updates: Uint8Array[] = []
    other.on('update', (update: Uint8Array) => updates.push(update))
    type(other, 'a')
    type(other, 'b')
    deliver(handle, [{ type: 'update', doc: DOC, ref: 0, update: updates[1]! }])
    expect(clock.timersWaiting).toBe(1)
    const synced = track(handle.whenSynced())
    type(handle.doc, 'x')
    await handle.whenStored()
    const saved = track(handle.whenSaved())
    await handle.close()
    expect(synced.error).toMatchObject({ code: 'CLOSED' })
    expect(saved.error).toMatchObject({ code: 'CLOSED' })
    expect(owner.take('close')).toEqual([{ type: 'close', doc: DOC }])
    expect(owner.released).toEqual([DOC])
    expect(clock.timersWaiting).toBe(0)
    await expect(handle.whenSynced()).rejects.toMatchObject({ code: 'CLOSED' })
    await expect(handle.whenSaved()).rejects.toMatchObject({ code: 'CLOSED' })
    deliver(handle, [{ type: 'sync-step-2', doc: DOC, ref: 0, update: updates[0]! }])
    expect(handle.synced).toBe(false)
    expect(text(handle.doc)).toBe('x')
  })
})
