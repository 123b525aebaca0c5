import { decodeMessage } from '@weft/protocol'
import { MemoryStore, type StoredDoc } from '@weft/server'
import { RawSocket, startTestRelay, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

/** A MemoryStore whose loads wait until the test opens the gate; `loading` resolves when one starts. */
class GatedStore extends MemoryStore {
  loads = 0
  fail = false
  #open!: () => void
  #gate = new Promise<void>((resolve) => (this.#open = resolve))
  #started!: () => void
  readonly loading = new Promise<void>((resolve) => (this.#started = resolve))

  openGate(): void {
    this.#open()
  }

  override async load(name: string): Promise<StoredDoc> {
    this.loads += 1
    this.#started()
    await this.#gate
    if (this.fail) throw new Error('EIO: i/o error')
    return super.load(name)
  }
}

const seed = async (store: MemoryStore): Promise<Y.Doc> => {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, 'stored before the relay started')
  await store.append('doc', [
    {
      update: Y.encodeStateAsUpdate(doc),
      meta: { author: 'x', correlationId: '', receivedAtMs: 0 },
    },
  ])
  return doc
}

let relay: TestRelay
afterEach(async () => {
  await relay.close()
})

describe('document loading', () => {
  it('answers a Weft open only after the document loaded, with its stored content', async () => {
    const store = new GatedStore()
    await seed(store)
    relay = await startTestRelay({ store })
    const sockets = await Promise.all([RawSocket.weft(relay.url), RawSocket.weft(relay.url)])
    for (const socket of sockets)
      socket.sendMessage({ type: 'open', doc: 'doc', stateVector: new Uint8Array([0]) })
    await store.loading
    expect(sockets.every((socket) => socket.frames.length === 1)).toBe(true) // just the welcome
    store.openGate()
    for (const socket of sockets) {
      const step2 = await socket.nextMessage((message) => message.type === 'sync-step-2')
      const doc = new Y.Doc()
      Y.applyUpdate(doc, (step2 as { update: Uint8Array }).update)
      expect(doc.getText('t').toString()).toBe('stored before the relay started')
    }
    expect(store.loads).toBe(1)
  })

  it('answers a y-websocket sync step 1 only after the document loaded', async () => {
    const store = new GatedStore()
    await seed(store)
    relay = await startTestRelay({ store })
    const socket = await RawSocket.open(`${relay.url}/doc`, false)
    socket.send(new Uint8Array([0, 0, 1, 0]))
    await store.loading
    expect(socket.frames).toEqual([])
    store.openGate()
    const step2 = await socket.nextFrame((frame) => frame[0] === 0 && frame[1] === 1)
    const doc = new Y.Doc()
    Y.applyUpdate(doc, step2.subarray(3))
    expect(doc.getText('t').toString()).toBe('stored before the relay started')
  })

  it('answers a fresh client with the stored snapshot as it is, before applying it', async () => {
    const store = new MemoryStore()
    const doc = await seed(store)
    const snapshot = Y.encodeStateAsUpdate(doc)
    await store.compact('doc', snapshot, 1)
    relay = await startTestRelay({ store })
    const fresh = await RawSocket.weft(relay.url)
    const yws = await RawSocket.open(`${relay.url}/doc`, false)
    fresh.sendMessage({ type: 'open', doc: 'doc', stateVector: new Uint8Array([0]) })
    yws.send(new Uint8Array([0, 0, 1, 0]))
    const step2 = (await fresh.nextMessage((message) => message.type === 'sync-step-2')) as {
      update: Uint8Array
    }
    expect(step2.update).toEqual(snapshot)
    const ywsStep2 = await yws.nextFrame((frame) => frame[0] === 0 && frame[1] === 1)
    expect(ywsStep2.subarray(3)).toEqual(snapshot)
    // The relay's own state vector follows, once it has applied the snapshot.
    const step1 = (await fresh.nextMessage((message) => message.type === 'sync-step-1')) as {
      stateVector: Uint8Array
    }
    expect(step1.stateVector).toEqual(Y.encodeStateVector(doc))
    // A client that already has something gets a computed difference instead.
    const known = await RawSocket.weft(relay.url)
    known.sendMessage({ type: 'open', doc: 'doc', stateVector: Y.encodeStateVector(doc) })
    const nothingNew = (await known.nextMessage((message) => message.type === 'sync-step-2')) as {
      update: Uint8Array
    }
    expect(nothingNew.update).not.toEqual(snapshot)
  })

  it('refuses clients with a retryable UNAVAILABLE when the load fails, never an empty document', async () => {
    const store = new GatedStore()
    await seed(store)
    store.fail = true
    relay = await startTestRelay({ store })
    const weft = await RawSocket.weft(relay.url)
    weft.sendMessage({ type: 'open', doc: 'doc', stateVector: new Uint8Array([0]) })
    const yws = await RawSocket.open(`${relay.url}/doc`, false)
    store.openGate()
    expect(await weft.nextMessage((message) => message.type === 'error')).toMatchObject({
      doc: 'doc',
      code: 'UNAVAILABLE',
    })
    expect((await yws.closed).code).toBe(4503)
    const types = weft.frames.map((frame) => decodeMessage(frame).type)
    expect(types).not.toContain('sync-step-2')
    expect(weft.open).toBe(true)
  })
})
