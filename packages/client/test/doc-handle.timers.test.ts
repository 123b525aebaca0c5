import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  ACK_TIMEOUT_MS,
  deliver,
  DOC,
  REPAIR_AFTER_MS,
  syncWith,
  text,
  type,
  syncedHandle,
} from './doc-handle-fixture.js'

/** Two consecutive updates of another client: the second depends on the first. */
const chainedUpdates = (): [Uint8Array, Uint8Array] => {
  const other = new Y.Doc()
  const updates: Uint8Array[] = []
  other.on('update', (update: Uint8Array) => updates.push(update))
  type(other, 'a')
  type(other, 'b')
  return [updates[0]!, updates[1]!]
}

const synced = syncedHandle

describe('DocHandle timers', () => {
  it('asks for a fresh sync while an edit stays unacknowledged for ackTimeoutMs', async () => {
    const { handle, owner, clock } = await synced()
    type(handle.doc, 'a')
    await handle.whenStored()
    expect(owner.take('update')).toHaveLength(1)
    clock.advance(ACK_TIMEOUT_MS - 1)
    expect(owner.take('open')).toEqual([])
    clock.advance(1)
    const [open, ...more] = owner.take('open')
    expect(more).toEqual([])
    expect(open?.stateVector).toEqual(Y.encodeStateVector(handle.doc))
    clock.advance(ACK_TIMEOUT_MS)
    expect(owner.take('open')).toHaveLength(1)
    deliver(handle, [{ type: 'saved', doc: DOC, ref: 1, stateVector: new Uint8Array([0]) }])
    clock.advance(3 * ACK_TIMEOUT_MS)
    expect(owner.take('open')).toEqual([])
  })

  it('restarts the ack timeout when some of the edits are acknowledged', async () => {
    const { handle, owner, clock } = await synced()
    type(handle.doc, 'a')
    await handle.whenStored()
    clock.advance(10_000)
    type(handle.doc, 'b')
    await handle.whenStored()
    expect(owner.take('update').map((update) => update.ref)).toEqual([1, 2])
    deliver(handle, [{ type: 'saved', doc: DOC, ref: 1, stateVector: new Uint8Array([0]) }])
    clock.advance(ACK_TIMEOUT_MS - 1)
    expect(owner.take('open')).toEqual([])
    clock.advance(1)
    expect(owner.take('open')).toHaveLength(1)
  })

  it("resyncs when an update's dependency is still missing after repairAfterMs", async () => {
    const { handle, owner, clock } = await synced()
    const [, second] = chainedUpdates()
    deliver(handle, [{ type: 'update', doc: DOC, ref: 0, update: second }])
    expect(text(handle.doc)).toBe('')
    clock.advance(REPAIR_AFTER_MS - 1)
    expect(owner.take('open')).toEqual([])
    clock.advance(1)
    const [open] = owner.take('open')
    expect(open?.stateVector).toEqual(Y.encodeStateVector(handle.doc))
  })

  it('does not resync when the missing update arrives in time', async () => {
    const { handle, owner, clock } = await synced()
    const [first, second] = chainedUpdates()
    deliver(handle, [{ type: 'update', doc: DOC, ref: 0, update: second }])
    clock.advance(REPAIR_AFTER_MS / 2)
    deliver(handle, [{ type: 'update', doc: DOC, ref: 0, update: first }])
    expect(text(handle.doc)).toBe('ab')
    clock.advance(2 * REPAIR_AFTER_MS)
    expect(owner.take('open')).toEqual([])
  })

  it('reopens after the backoff delay when the relay closes the document with a retryable error', async () => {
    const { handle, owner, clock, relay } = await synced()
    const errors: string[] = []
    handle.on('error', (error) => errors.push(error.code))
    deliver(handle, [{ type: 'error', doc: DOC, code: 'UNAVAILABLE', reason: 'busy' }])
    expect(errors).toEqual(['UNAVAILABLE'])
    expect(handle.status).toEqual({ state: 'connecting', attempt: 0, reason: 'busy' })
    expect(handle.synced).toBe(false)
    clock.advance(999)
    expect(owner.take('open')).toEqual([])
    clock.advance(1)
    expect(owner.take('open')).toHaveLength(1)
    expect(handle.status).toEqual({ state: 'syncing' })
    // Failing again before it synced waits longer; syncing starts the count over.
    deliver(handle, [{ type: 'close', doc: DOC }])
    clock.advance(1_999)
    expect(owner.take('open')).toEqual([])
    clock.advance(1)
    syncWith(handle, owner, relay)
    deliver(handle, [{ type: 'error', doc: DOC, code: 'UNAVAILABLE', reason: 'busy' }])
    expect(owner.retryAttempts).toEqual([0, 1, 0])
  })

  it('stops for an error that retrying cannot fix', async () => {
    const { handle, owner, clock } = await synced()
    deliver(handle, [{ type: 'error', doc: DOC, code: 'FORBIDDEN', reason: 'no access' }])
    expect(handle.status).toEqual({ state: 'error', code: 'FORBIDDEN', reason: 'no access' })
    expect(handle.paused).toBe(true)
    clock.advance(60_000)
    handle.connectionReady()
    expect(owner.sent).toEqual([])
  })

  it('ignores DOC_NOT_OPEN about a frame sent before its own reopen', async () => {
    const { handle, owner, clock, relay } = await synced()
    type(handle.doc, 'a')
    await handle.whenStored()
    clock.advance(ACK_TIMEOUT_MS)
    const [resync] = owner.take('open')
    const errors: string[] = []
    handle.on('error', (error) => errors.push(error.code))
    const notOpen = { type: 'error', doc: DOC, code: 'DOC_NOT_OPEN', reason: 'not open' } as const
    deliver(handle, [notOpen])
    expect(errors).toEqual([])
    expect(handle.status).toEqual({ state: 'synced' })
    const [step2] = relay.answerOpen(resync!)
    deliver(handle, [step2!])
    deliver(handle, [notOpen])
    expect(errors).toEqual(['DOC_NOT_OPEN'])
  })
})
