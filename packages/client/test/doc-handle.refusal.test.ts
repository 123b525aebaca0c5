import { describe, expect, it } from 'vitest'
import {
  ACK_TIMEOUT_MS,
  deliver,
  DOC,
  text,
  track,
  type,
  syncedHandle,
} from './doc-handle-fixture.js'

const EVERYTHING = new Uint8Array([0])

const synced = syncedHandle

describe('DocHandle refusals', () => {
  it("sets a refused edit and the later ones aside, then rebuilds from the relay's whole state", async () => {
    const { handle, owner, relay, store } = await synced()
    type(handle.doc, 'kept ')
    const first = track(handle.whenSaved())
    await handle.whenStored()
    type(handle.doc, 'refused ')
    await handle.whenStored()
    type(handle.doc, 'after')
    const last = track(handle.whenSaved())
    await handle.whenStored()
    expect(owner.take('update').map((update) => update.ref)).toEqual([1, 2, 3])
    type(relay.doc, 'other ')
    const log: string[] = []
    handle.on('rejected', (edit) => log.push(`rejected ${edit.ref}`))
    handle.on('pending', (pending) => log.push(`pending ${pending}`))
    handle.on('reset', () => log.push('reset'))
    const previous = handle.doc
    deliver(handle, [{ type: 'rejected', doc: DOC, ref: 2, code: 'BAD_UPDATE', reason: 'no' }])
    expect(log).toEqual(['rejected 2', 'rejected 3', 'pending 1'])
    expect(handle.rejected.map((edit) => [edit.ref, edit.code])).toEqual([
      [2, 'BAD_UPDATE'],
      [3, 'BAD_UPDATE'],
    ])
    await handle.whenStored()
    expect(last.error).toMatchObject({ code: 'BAD_UPDATE' })
    expect(first.settled).toBe(false)
    expect((await store.load(DOC)).outbox.map((record) => record.ref)).toEqual([1])
    const [open] = owner.take('open')
    expect(open?.stateVector).toEqual(EVERYTHING)
    expect(handle.doc).toBe(previous)
    deliver(handle, relay.answerOpen(open!))
    expect(log).toEqual(['rejected 2', 'rejected 3', 'pending 1', 'reset'])
    expect(handle.doc).not.toBe(previous)
    expect(handle.doc.clientID).not.toBe(previous.clientID)
    expect(text(handle.doc)).toContain('other')
    expect(text(handle.doc)).toContain('kept')
    expect(text(handle.doc)).not.toContain('refused')
    expect(text(handle.doc)).not.toContain('after')
    deliver(handle, [{ type: 'saved', doc: DOC, ref: 1, stateVector: EVERYTHING }])
    await handle.whenStored()
    expect(first.resolved).toBe(true)
    owner.drain()
    type(handle.doc, '!')
    await handle.whenStored()
    expect(owner.take('update').map((update) => update.ref)).toEqual([4])
  })

  it("asks again for the relay's whole state when the connection drops before it arrived", async () => {
    const { handle, owner, relay } = await synced()
    type(handle.doc, 'refused')
    await handle.whenStored()
    deliver(handle, [{ type: 'rejected', doc: DOC, ref: 1, code: 'BAD_UPDATE', reason: 'no' }])
    owner.ready = false
    handle.connectionDown()
    owner.drain()
    owner.ready = true
    handle.connectionReady()
    const [open] = owner.take('open')
    expect(open?.stateVector).toEqual(EVERYTHING)
    const resets: unknown[] = []
    handle.on('reset', (event) => resets.push(event))
    deliver(handle, relay.answerOpen(open!))
    expect(resets).toHaveLength(1)
    expect(text(handle.doc)).toBe('')
  })

  it('refuses every edit of a refused batch', async () => {
    const { handle, owner } = await synced()
    type(handle.doc, 'a')
    type(handle.doc, 'b')
    await handle.whenStored()
    const [batch] = owner.take('updates')
    expect(batch?.ref).toBe(2)
    deliver(handle, [{ type: 'rejected', doc: DOC, ref: 2, code: 'BAD_UPDATE', reason: 'no' }])
    expect(handle.rejected.map((edit) => edit.ref)).toEqual([1, 2])
    expect(handle.pending).toBe(0)
  })

  it("applies answers to opens sent before the reset as usual, and rebuilds from the reset's own", async () => {
    const { handle, owner, clock, relay } = await synced()
    type(handle.doc, 'x')
    await handle.whenStored()
    clock.advance(ACK_TIMEOUT_MS)
    const [resync] = owner.take('open')
    type(relay.doc, 'other')
    deliver(handle, [{ type: 'rejected', doc: DOC, ref: 1, code: 'BAD_UPDATE', reason: 'no' }])
    const [reset] = owner.take('open')
    expect(reset?.stateVector).toEqual(EVERYTHING)
    const resets: unknown[] = []
    handle.on('reset', (event) => resets.push(event))
    deliver(handle, [relay.answerOpen(resync!)[0]!])
    expect(resets).toEqual([])
    expect(text(handle.doc)).toContain('x')
    deliver(handle, [relay.answerOpen(reset!)[0]!])
    expect(resets).toHaveLength(1)
    expect(text(handle.doc)).toBe('other')
  })

  it("sets aside an edit over the relay's frame limit as MESSAGE_TOO_BIG", async () => {
    const { handle, owner } = await synced()
    owner.maxMessageBytes = 256
    type(handle.doc, 'x'.repeat(1_000))
    await handle.whenStored()
    const sent = owner.drain()
    expect(sent.filter((message) => message.type === 'update')).toEqual([])
    expect(sent).toContainEqual({ type: 'open', doc: DOC, stateVector: EVERYTHING })
    expect(handle.rejected).toEqual([expect.objectContaining({ ref: 1, code: 'MESSAGE_TOO_BIG' })])
  })

  it('reports a refusal of something that is not a waiting edit as an error', async () => {
    const { handle, owner } = await synced()
    const errors: string[] = []
    handle.on('error', (error) => errors.push(error.code))
    deliver(handle, [{ type: 'rejected', doc: DOC, ref: 42, code: 'BAD_UPDATE', reason: 'no' }])
    expect(errors).toEqual(['BAD_UPDATE'])
    expect(handle.rejected).toEqual([])
    expect(owner.take('open')).toEqual([])
  })
})
