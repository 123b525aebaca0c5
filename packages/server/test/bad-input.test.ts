import type { DocHandle } from '@weft/client'
import { decodeMessage, ERROR_CODES, type WeftMessage } from '@weft/protocol'
import { RawSocket, startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

const MAX_MESSAGE_BYTES = 64 * 1024

let relay: TestRelay
let observer: DocHandle
let observerUpdates: number
let storedBefore: Awaited<ReturnType<TestRelay['store']['load']>>

const open = async (name: string): Promise<DocHandle> => {
  const handle = testClient(relay).open(name)
  await handle.whenSynced()
  return handle
}

beforeEach(async () => {
  relay = await startTestRelay({ maxMessageBytes: MAX_MESSAGE_BYTES })
  observer = await open('doc')
  observer.doc.getText('t').insert(0, 'safe')
  await observer.whenSaved()
  observerUpdates = 0
  observer.doc.on('update', () => observerUpdates++)
  storedBefore = await relay.store.load('doc')
})

afterEach(async () => {
  await relay.close()
})

/** The document, the store and the other client are as they were; the relay still serves. */
const expectNothingChanged = async (): Promise<void> => {
  expect(observerUpdates).toBe(0)
  expect(observer.status.state).toBe('synced')
  expect(await relay.store.load('doc')).toEqual(storedBefore)
  const fresh = await open('doc')
  expect(fresh.doc.getText('t').toString()).toBe('safe')
}

const truncatedUpdate = (): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, 'evil')
  const update = Y.encodeStateAsUpdate(doc)
  return update.slice(0, update.length - 3)
}

const oversizedUpdate = (): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, 'x'.repeat(MAX_MESSAGE_BYTES + 1))
  return Y.encodeStateAsUpdate(doc)
}

const errorMessage = (frames: Uint8Array[]): WeftMessage | undefined =>
  frames.map((frame) => decodeMessage(frame)).find((message) => message.type === 'error')

describe('bad input on a Weft socket', () => {
  const expectClosed = async (socket: RawSocket, code: keyof typeof ERROR_CODES): Promise<void> => {
    const closed = await socket.closed
    expect(closed.code).toBe(ERROR_CODES[code].closeCode)
    await expectNothingChanged()
  }

  it('garbage bytes close that socket with BAD_MESSAGE (4400) after an error naming the code', async () => {
    const socket = await RawSocket.weft(relay.url)
    socket.sendMessage({ type: 'open', doc: 'doc', stateVector: Y.encodeStateVector(new Y.Doc()) })
    await socket.nextMessage((message) => message.type === 'sync-step-1')
    socket.send(new Uint8Array([5, 200, 200, 200, 200, 200, 1]))
    await expectClosed(socket, 'BAD_MESSAGE')
    expect(errorMessage(socket.frames)).toMatchObject({ doc: '', code: 'BAD_MESSAGE' })
  })

  it('a text frame closes that socket with 1003', async () => {
    const socket = await RawSocket.weft(relay.url)
    socket.send('{"type":"update"}')
    await expectClosed(socket, 'UNSUPPORTED_DATA')
  })

  it('an unknown message type closes that socket with UNKNOWN_MESSAGE (4405)', async () => {
    const socket = await RawSocket.weft(relay.url)
    socket.send(new Uint8Array([99, 1, 2, 3]))
    await expectClosed(socket, 'UNKNOWN_MESSAGE')
  })

  it('a frame over maxMessageBytes closes that socket with 1009', async () => {
    const socket = await RawSocket.weft(relay.url)
    socket.sendMessage({ type: 'open', doc: 'doc', stateVector: Y.encodeStateVector(new Y.Doc()) })
    await socket.nextMessage((message) => message.type === 'sync-step-1')
    socket.sendMessage({ type: 'update', doc: 'doc', ref: 1, update: oversizedUpdate() })
    await expectClosed(socket, 'MESSAGE_TOO_BIG')
  })

  it('a message before hello closes the socket with PROTOCOL_VIOLATION (4409)', async () => {
    const socket = await RawSocket.open(relay.url, true)
    socket.sendMessage({ type: 'open', doc: 'doc', stateVector: new Uint8Array([0]) })
    await expectClosed(socket, 'PROTOCOL_VIOLATION')
  })

  it('a truncated update is rejected for that document only; the socket and its other documents keep working', async () => {
    const socket = await RawSocket.weft(relay.url)
    for (const doc of ['doc', 'other']) {
      socket.sendMessage({ type: 'open', doc, stateVector: Y.encodeStateVector(new Y.Doc()) })
      await socket.nextMessage((message) => message.type === 'sync-step-1' && message.doc === doc)
    }
    socket.sendMessage({ type: 'update', doc: 'doc', ref: 41, update: truncatedUpdate() })
    const rejected = await socket.nextMessage((message) => message.type === 'rejected')
    expect(rejected).toMatchObject({ type: 'rejected', doc: 'doc', ref: 41, code: 'BAD_UPDATE' })
    const good = new Y.Doc()
    good.getText('t').insert(0, 'fine')
    socket.sendMessage({
      type: 'update',
      doc: 'other',
      ref: 42,
      update: Y.encodeStateAsUpdate(good),
    })
    const saved = await socket.nextMessage(
      (message) => message.type === 'saved' && message.ref === 42,
    )
    expect(saved).toMatchObject({ doc: 'other' })
    expect(socket.open).toBe(true)
    await expectNothingChanged()
  })
})

describe('bad input on a y-websocket socket', () => {
  const expectClosed = async (socket: RawSocket, code: keyof typeof ERROR_CODES): Promise<void> => {
    const closed = await socket.closed
    expect(closed.code).toBe(ERROR_CODES[code].closeCode)
    await expectNothingChanged()
  }
  const ywsSocket = async (): Promise<RawSocket> => {
    const socket = await RawSocket.open(`${relay.url}/doc`, false)
    await socket.nextFrame()
    return socket
  }

  it('garbage bytes close that socket with BAD_MESSAGE (4400)', async () => {
    const socket = await ywsSocket()
    socket.send(new Uint8Array([0, 1, 250, 250, 250, 250, 7]))
    await expectClosed(socket, 'BAD_MESSAGE')
  })

  it('a text frame closes that socket with 1003', async () => {
    const socket = await ywsSocket()
    socket.send('hello')
    await expectClosed(socket, 'UNSUPPORTED_DATA')
  })

  it('an unknown message type closes that socket with UNKNOWN_MESSAGE (4405)', async () => {
    const socket = await ywsSocket()
    socket.send(new Uint8Array([42, 0]))
    await expectClosed(socket, 'UNKNOWN_MESSAGE')
  })

  it('a truncated update closes that socket with BAD_UPDATE (4422)', async () => {
    const socket = await ywsSocket()
    const update = truncatedUpdate()
    socket.send(new Uint8Array([0, 2, update.length, ...update]))
    await expectClosed(socket, 'BAD_UPDATE')
  })

  it('a frame over maxMessageBytes closes that socket with 1009', async () => {
    const socket = await ywsSocket()
    const update = oversizedUpdate()
    const frame = new Uint8Array(update.length + 8)
    frame.set([0, 2, 0x81, 0x80, 0x05], 0)
    frame.set(update, 5)
    socket.send(frame)
    await expectClosed(socket, 'MESSAGE_TOO_BIG')
  })

  it('an invalid document name in the URL closes with BAD_DOC_NAME (4404)', async () => {
    const socket = await RawSocket.open(`${relay.url}/%E0%A4%A`, false)
    await expectClosed(socket, 'BAD_DOC_NAME')
  })
})
