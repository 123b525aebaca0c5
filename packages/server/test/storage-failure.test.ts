import type { DocHandle } from '@weft/client'
import type { WeftError } from '@weft/protocol'
import { MemoryStore, type AppendEntry, type DocStore } from '@weft/server'
import { startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

/** A store whose appends fail while `full` is set, like a full disk. */
class FullDiskStore extends MemoryStore implements DocStore {
  full = false
  override async append(name: string, entries: readonly AppendEntry[]): Promise<number> {
    if (this.full)
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
    return super.append(name, entries)
  }
}

let relay: TestRelay

afterEach(async () => {
  await relay.close()
})

/** A relay on a FullDiskStore and a client with `doc` open and synced. */
const openOnFullableRelay = async (): Promise<{
  store: FullDiskStore
  handle: DocHandle
}> => {
  const store = new FullDiskStore()
  relay = await startTestRelay({ store })
  const client = testClient(relay, {
    backoff: { initialMs: 20, maxMs: 50, slowRetryMs: 50, stableMs: 1000 },
  })
  const handle = client.open('doc')
  await handle.whenSynced()
  return { store, handle }
}

describe('a storage failure on the relay', () => {
  it('sends no saved, tells the client with a retryable code, and keeps the edit pending until writes work again', async () => {
    const { store, handle } = await openOnFullableRelay()
    let saves = 0
    handle.on('saved', () => saves++)

    store.full = true
    const errored = new Promise<WeftError>((resolve) => handle.once('error', resolve))
    handle.doc.getText('t').insert(0, 'must not be lost')
    const error = await errored
    expect(error.code).toBe('STORAGE_FAILED')
    expect(error.retry).toBe('retry')
    expect(saves).toBe(0)
    expect(handle.pending).toBe(1)

    store.full = false
    await handle.whenSaved()
    expect(handle.pending).toBe(0)
    const stored = await store.load('doc')
    expect(stored.updates.length).toBeGreaterThan(0)
  })
})

describe('a storage failure while a client keeps writing', () => {
  it('the client reopens the document (stale DOC_NOT_OPEN answers are ignored) and saves everything once writes work', async () => {
    const { store, handle } = await openOnFullableRelay()
    const codes: string[] = []
    handle.on('error', (error: WeftError) => codes.push(error.code))
    const items = handle.doc.getArray<string>('items')
    store.full = true
    for (let n = 0; n < 40; n++) {
      items.push([`item ${n}`])
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    store.full = false
    await handle.whenSaved()
    expect(codes).toContain('STORAGE_FAILED')
    expect(handle.status.state).toBe('synced')
    const stored = await store.load('doc')
    const read = new Y.Doc()
    if (stored.snapshot !== null) Y.applyUpdate(read, stored.snapshot)
    for (const update of stored.updates) Y.applyUpdate(read, update)
    expect(read.getArray<string>('items').toArray()).toEqual(items.toArray())
  })
})
