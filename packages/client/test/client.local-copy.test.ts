import {
  encryptLocalStore,
  MemoryLocalStore,
  type LocalChange,
  type LocalStore,
} from '@weft/client'
import { startTestRelay, testClient, untilSameState, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

let relay: TestRelay | undefined

/** No relay: port 9 (discard) on loopback; these clients are made with `autoConnect: false`. */
const offline = { url: 'ws://127.0.0.1:9' }

afterEach(async () => {
  await relay?.close()
  relay = undefined
})

describe('the local copy', () => {
  it('shows the locally stored state at once when opened offline, with its edits still pending', async () => {
    const store = new MemoryLocalStore()
    const firstClient = testClient(offline, { store, autoConnect: false })
    const first = firstClient.open('notes')
    await first.whenLoaded()
    first.doc.getText('t').insert(0, 'typed offline')
    first.doc.getMap('m').set('k', 1)
    await first.whenStored()
    await firstClient.close()

    const second = testClient(offline, { store, autoConnect: false }).open('notes')
    await second.whenLoaded()
    expect(second.doc.getText('t').toString()).toBe('typed offline')
    expect(second.doc.getMap('m').get('k')).toBe(1)
    expect(second.pending).toBe(2)
    expect(second.status.state).toBe('offline')
  })

  it('stops, touching nothing stored, when the local copy cannot be decrypted', async () => {
    const inner = new MemoryLocalStore()
    const key = (byte: number): Uint8Array => new Uint8Array(32).fill(byte)
    const encrypted = (byte: number): LocalStore =>
      encryptLocalStore(inner, { keys: [{ id: 'k1', key: key(byte) }] })
    const firstClient = testClient(offline, { store: encrypted(1), autoConnect: false })
    const first = firstClient.open('secret')
    await first.whenLoaded()
    first.doc.getText('t').insert(0, 'pending and encrypted')
    await first.whenStored()
    await firstClient.close()
    const before = await inner.load('secret')

    const wrong = testClient(offline, { store: encrypted(2), autoConnect: false }).open('secret')
    await wrong.whenLoaded()
    expect(wrong.status).toMatchObject({ state: 'error', code: 'DECRYPTION_FAILED' })
    wrong.doc.getText('t').insert(0, 'typed anyway')
    await wrong.whenStored()
    expect(await inner.load('secret')).toEqual(before)

    const again = testClient(offline, { store: encrypted(1), autoConnect: false }).open('secret')
    await again.whenLoaded()
    expect(again.doc.getText('t').toString()).toBe('pending and encrypted')
    expect(again.pending).toBe(1)
  })

  it('writes an edit to the local store before it is sent', async () => {
    relay = await startTestRelay()
    const store = new MemoryLocalStore()
    let releaseWrite: () => void = () => {}
    let writes = 0
    const gated: LocalStore = {
      load: (doc) => store.load(doc),
      compact: (doc, snapshot) => store.compact(doc, snapshot),
      clear: (doc) => store.clear(doc),
      close: () => store.close(),
      write: async (doc: string, change: LocalChange) => {
        writes += 1
        if ((change.outboxAdd?.length ?? 0) > 0)
          await new Promise<void>((resolve) => (releaseWrite = resolve))
        return store.write(doc, change)
      },
    }
    const writer = testClient(relay, { store: gated }).open('doc')
    const reader = testClient(relay).open('doc')
    await Promise.all([writer.whenSynced(), reader.whenSynced()])
    writer.doc.getText('t').insert(0, 'stored first')
    await new Promise<void>((resolve) => setTimeout(resolve, 50))
    expect(writes).toBeGreaterThan(0)
    expect(reader.doc.getText('t').toString()).toBe('') // not sent while the write is pending
    releaseWrite()
    await untilSameState([writer.doc, reader.doc])
    expect(reader.doc.getText('t').toString()).toBe('stored first')
    await writer.whenSaved()
    await writer.whenStored()
    expect((await store.load('doc')).outbox).toEqual([])
  })

  it('stores what arrives from the relay, and records edits an observer makes in reply to it', async () => {
    relay = await startTestRelay()
    const store = new MemoryLocalStore()
    const sender = testClient(relay).open('replies')
    const replierClient = testClient(relay, { store })
    const replier = replierClient.open('replies')
    await Promise.all([sender.whenSynced(), replier.whenSynced()])
    // An app observer that answers every remote question inside the remote change's cleanup.
    replier.doc.getArray<string>('questions').observe((event) => {
      if (event.transaction.local) return
      for (const question of event.changes.delta.flatMap((change) => change.insert ?? []))
        replier.doc.getArray<string>('answers').push([`answer to ${question as string}`])
    })
    sender.doc.getArray<string>('questions').push(['why'])
    await untilSameState([sender.doc, replier.doc])
    await replier.whenSaved()
    expect(sender.doc.getArray('answers').toArray()).toEqual(['answer to why'])
    expect(replier.pending).toBe(0)
    await replier.whenStored()
    await replierClient.close()

    // The copy holds the remote question and the reply, without a relay.
    const reopened = testClient(offline, { store, autoConnect: false }).open('replies')
    await reopened.whenLoaded()
    expect(reopened.doc.getArray('questions').toArray()).toEqual(['why'])
    expect(reopened.doc.getArray('answers').toArray()).toEqual(['answer to why'])
  })

  it('is compacted, so what is stored stays within a small multiple of the document', async () => {
    const store = new MemoryLocalStore()
    let edits = 0
    for (let round = 0; round < 12; round++) {
      const grower = testClient(offline, { store, compactAfterUpdates: 10, autoConnect: false })
      const handle = grower.open('grow')
      await handle.whenLoaded()
      // Fixed client ids: sizes (and so when the amortized policy compacts) do not vary by run.
      handle.doc.clientID = 1000 + round
      // Typing over a fixed region: the document stays small while its history grows.
      const text = handle.doc.getText('t')
      for (let index = 0; index < 40; index++, edits++) {
        text.insert(0, 'x')
        if (text.length > 20) text.delete(20, 1)
      }
      await grower.close()
    }
    const stored = await store.load('grow')
    expect(stored.snapshot).not.toBeNull()
    const doc = new Y.Doc()
    Y.applyUpdate(doc, stored.snapshot!)
    for (const update of stored.updates) Y.applyUpdate(doc, update)
    expect(doc.getText('t').length).toBe(20)
    const storedBytes =
      stored.snapshot!.length + stored.updates.reduce((sum, update) => sum + update.length, 0)
    const documentBytes = Y.encodeStateAsUpdate(doc).length
    expect(stored.updates.length).toBeLessThan(edits / 4)
    expect(storedBytes).toBeLessThan(3 * documentBytes + 1024)
  })

  it('sends an edit over the relay frame limit in chunks, refuses one over the document-size limit instead of resending it, and keeps the other documents working', async () => {
    relay = await startTestRelay({ maxMessageBytes: 4096, maxDocBytes: 16_000 })
    const weft = testClient(relay)
    const big = weft.open('big')
    const other = weft.open('other')
    await Promise.all([big.whenSynced(), other.whenSynced()])
    // Over the 4,096-byte frame limit, within the document-size limit: saved, in chunks.
    big.doc.getText('t').insert(0, 'x'.repeat(10_000))
    await big.whenSaved()
    const rejected = new Promise<{ code: string }>((resolve) => big.once('rejected', resolve))
    const before = big.whenSaved()
    big.doc.getText('u').insert(0, 'y'.repeat(10_000))
    const after = big.whenSaved()
    await before // nothing was waiting when it was asked
    expect(await rejected).toMatchObject({ code: 'DOC_TOO_LARGE' })
    await expect(after).rejects.toMatchObject({ code: 'DOC_TOO_LARGE' })
    expect(big.pending).toBe(0)
    expect(big.rejected).toHaveLength(1)
    other.doc.getText('t').insert(0, 'small')
    await other.whenSaved()
    expect(weft.status.state).toBe('synced')
  })
})
