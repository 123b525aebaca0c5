import { PROTOCOL_VERSION } from '@weft/protocol'
import { RawSocket, startTestRelay, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

let relay: TestRelay | undefined

afterEach(async () => {
  await relay?.close()
  relay = undefined
})

const emptyStateVector = (): Uint8Array => Y.encodeStateVector(new Y.Doc())

describe('relay sessions: negotiation, timeouts, heartbeats and limits', () => {
  it('refuse a client whose versions the relay does not speak, with VERSION_UNSUPPORTED (4426)', async () => {
    relay = await startTestRelay()
    const socket = await RawSocket.open(relay.url, true)
    socket.sendMessage({
      type: 'hello',
      minVersion: PROTOCOL_VERSION + 1,
      maxVersion: PROTOCOL_VERSION + 5,
      token: '',
      correlationId: 'future',
      client: 'from-the-future',
    })
    const error = await socket.nextMessage((message) => message.type === 'error')
    expect(error).toMatchObject({ doc: '', code: 'VERSION_UNSUPPORTED' })
    expect((await socket.closed).code).toBe(4426)
  })

  it('close a socket that sends no hello in time with TIMEOUT (4408)', async () => {
    relay = await startTestRelay({ helloTimeoutMs: 50 })
    const socket = await RawSocket.open(relay.url, true)
    expect((await socket.closed).code).toBe(4408)
  })

  it('drop a socket that stops answering WebSocket pings', async () => {
    relay = await startTestRelay({ heartbeatIntervalMs: 30 })
    const silent = await RawSocket.open(`${relay.url}/doc`, false, { answerPings: false })
    const alive = await RawSocket.open(`${relay.url}/doc`, false)
    await silent.closed
    // The answering socket outlived the same heartbeats and still gets answers.
    const frames = alive.frames.length
    alive.send(new Uint8Array([0, 0, 1, 0]))
    await alive.nextFrame((frame) => alive.frames.indexOf(frame) >= frames && frame[1] === 1)
    expect(alive.open).toBe(true)
  })

  it('refuse documents beyond maxDocsPerSocket one by one, keeping the others', async () => {
    relay = await startTestRelay({ maxDocsPerSocket: 2 })
    const socket = await RawSocket.weft(relay.url)
    for (const doc of ['a', 'b']) {
      socket.sendMessage({ type: 'open', doc, stateVector: emptyStateVector() })
      await socket.nextMessage((message) => message.type === 'sync-step-1' && message.doc === doc)
    }
    socket.sendMessage({ type: 'open', doc: 'c', stateVector: emptyStateVector() })
    expect(await socket.nextMessage((message) => message.type === 'error')).toMatchObject({
      doc: 'c',
      code: 'TOO_MANY_DOCS',
    })
    socket.sendMessage({ type: 'close', doc: 'a' })
    socket.sendMessage({ type: 'open', doc: 'c', stateVector: emptyStateVector() })
    await socket.nextMessage((message) => message.type === 'sync-step-1' && message.doc === 'c')
    expect(socket.open).toBe(true)
  })

  it('refuse a message for a document that is not open with DOC_NOT_OPEN, socket kept', async () => {
    relay = await startTestRelay()
    const socket = await RawSocket.weft(relay.url)
    socket.sendMessage({
      type: 'sync-step-1',
      doc: 'never-opened',
      stateVector: emptyStateVector(),
    })
    expect(await socket.nextMessage((message) => message.type === 'error')).toMatchObject({
      doc: 'never-opened',
      code: 'DOC_NOT_OPEN',
    })
    socket.sendMessage({ type: 'ping', nonce: 7 })
    expect(await socket.nextMessage((message) => message.type === 'pong')).toMatchObject({
      nonce: 7,
    })
  })

  it('refuse an invalid document name with BAD_DOC_NAME for that name only', async () => {
    relay = await startTestRelay()
    const socket = await RawSocket.weft(relay.url)
    socket.sendMessage({ type: 'open', doc: 'bad\u0000name', stateVector: emptyStateVector() })
    expect(await socket.nextMessage((message) => message.type === 'error')).toMatchObject({
      code: 'BAD_DOC_NAME',
    })
    expect(socket.open).toBe(true)
  })
})
