import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { MemoryLocalStore } from '../src/memory-local-store.js'
import { makeHandle, RelayDouble, syncWith, text, type } from './doc-handle-fixture.js'

describe('DocHandle local copy and forwarded edits', () => {
  it('stops, without opening, when the local copy cannot be read', async () => {
    const store = new MemoryLocalStore()
    store.load = () => Promise.reject(new Error('disk on fire'))
    const { handle, owner } = makeHandle({ store })
    const errors: string[] = []
    handle.on('error', (error) => errors.push(error.code))
    type(handle.doc, 'early')
    await handle.whenLoaded()
    expect(errors).toEqual(['LOCAL_STORE_FAILED'])
    expect(handle.status).toMatchObject({ state: 'error', code: 'LOCAL_STORE_FAILED' })
    expect(handle.paused).toBe(true)
    expect(handle.pending).toBe(0)
    handle.connectionReady()
    expect(owner.sent).toEqual([])
  })

  it("records another tab's edits byte for byte, even content the document already has", async () => {
    const { handle, owner } = makeHandle()
    await handle.whenLoaded()
    syncWith(handle, owner, new RelayDouble())
    const tab = new Y.Doc()
    type(tab, 'from a tab')
    const update = Y.encodeStateAsUpdate(tab)
    const origin = {}
    const origins: unknown[] = []
    handle.doc.on('update', (_: Uint8Array, seen: unknown) => origins.push(seen))
    expect(handle.applyForwarded([update], origin)).toBe(1)
    expect(origins).toEqual([origin])
    expect(text(handle.doc)).toBe('from a tab')
    expect(handle.applyForwarded([update], origin)).toBe(2)
    expect(handle.oldestPendingRef).toBe(1)
    await handle.whenStored()
    const [batch] = owner.take('updates')
    expect(batch?.updates).toEqual([update, update])
    await handle.close()
    expect(() => handle.applyForwarded([update], origin)).toThrow(
      expect.objectContaining({ code: 'CLOSED' }),
    )
  })
})
