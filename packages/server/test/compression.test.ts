/**
 * Compressed frames (protocol version 2) on the real relay: a text-heavy document's sync travels
 * deflated to a client that speaks 2, as it is to one that speaks only 1, and a large edit
 * arrives deflated; limits hold on the inflated size.
 */
import { decodeMessage, encodeMessage, MESSAGE_SPECS, type WeftMessage } from '@weft/protocol'
import { loadTrace, RawSocket, startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { deflateSync } from 'fflate'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

let relay: TestRelay | null = null
afterEach(async () => {
  await relay?.close()
  relay = null
})

const COMPRESSED_TAG = MESSAGE_SPECS.compressed.tag

/** The relay, counting the bytes it sends and receives. */
const start = async (options: { compressFromBytes?: number | null } = {}) => {
  const counted = { bytesOut: 0, bytesIn: 0 }
  relay = await startTestRelay({
    ...options,
    metrics: {
      frameOut: (bytes: number) => (counted.bytesOut += bytes),
      frameIn: (bytes: number) => (counted.bytesIn += bytes),
    },
  })
  return counted
}

/** The automerge-paper text: a real, text-heavy document of about 100 KB. */
const paperText = (): string => loadTrace('automerge-paper').endContent

/** Writes `text` into document `name` through a client and waits until it is saved. */
const writeDoc = async (name: string, text: string): Promise<Uint8Array> => {
  const writer = testClient(relay!).open(name)
  await writer.whenSynced()
  writer.doc.getText('t').insert(0, text)
  await writer.whenSaved()
  return Y.encodeStateAsUpdate(writer.doc)
}

/** Opens `name` on a raw socket and returns the frame of the relay's sync-step-2. */
const syncFrame = async (raw: RawSocket, name: string): Promise<Uint8Array> => {
  raw.sendMessage({ type: 'open', doc: name, stateVector: Uint8Array.of(0) })
  return raw.nextFrame((frame) => {
    const message = decodeMessage(frame)
    return message.type === 'sync-step-2' || message.type === 'compressed'
  })
}

describe('compressed frames', () => {
  it('carry a text-heavy sync in far fewer bytes to a client that speaks version 2', async () => {
    await start()
    const state = await writeDoc('paper', paperText())
    const modern = await RawSocket.weft(relay!.url, 2)
    const frame = await syncFrame(modern, 'paper')
    const message = decodeMessage(frame) as Extract<WeftMessage, { type: 'compressed' }>
    expect(message.type).toBe('compressed')
    console.log(
      `sync of a ${state.length}-byte document: ${frame.length} bytes compressed, ${message.size} inflated (${((100 * frame.length) / message.size).toFixed(0)}%)`,
    )
    expect(frame.length).toBeLessThan(0.6 * message.size)
    modern.close()
  })

  it('never reach a client that speaks only version 1, nor any client of a relay that turned them off', async () => {
    await start()
    await writeDoc('paper', paperText())
    const old = await RawSocket.weft(relay!.url, 1)
    const frame = await syncFrame(old, 'paper')
    expect(frame[0]).toBe(MESSAGE_SPECS['sync-step-2'].tag)
    expect(old.frames.some((bytes) => bytes[0] === COMPRESSED_TAG)).toBe(false)
    old.close()
    await relay!.close()
    await start({ compressFromBytes: null })
    await writeDoc('paper', paperText())
    const modern = await RawSocket.weft(relay!.url, 2)
    expect((await syncFrame(modern, 'paper'))[0]).toBe(MESSAGE_SPECS['sync-step-2'].tag)
    modern.close()
  })

  it("take a client's large edit deflated, and converge", async () => {
    const counted = await start()
    const text = paperText()
    const before = counted.bytesIn
    await writeDoc('paper', text)
    const received = counted.bytesIn - before
    console.log(`an edit of ${text.length} characters arrived in ${received} bytes`)
    expect(received).toBeLessThan(0.6 * text.length)
    const reader = testClient(relay!).open('paper')
    await reader.whenSynced()
    expect(reader.doc.getText('t').toString()).toBe(text)
  })

  it('count against the rate limits by their inflated size', async () => {
    let throttled = 0
    relay = await startTestRelay({
      maxBytesPerSecond: 64 * 1024,
      metrics: { socketThrottled: () => (throttled += 1) },
    })
    const raw = await RawSocket.weft(relay.url, 2)
    raw.sendMessage({ type: 'open', doc: 'notes', stateVector: Uint8Array.of(0) })
    await raw.nextMessage((message) => message.type === 'sync-step-2')
    const doc = new Y.Doc()
    const updates: Uint8Array[] = []
    doc.on('update', (update: Uint8Array) => updates.push(update))
    // Three edits of 100,000 characters each: about 300 KB inflated, a few KB on the wire.
    for (let edit = 0; edit < 3; edit++) doc.getText('t').insert(0, 'z'.repeat(100_000))
    let wire = 0
    updates.forEach((update, index) => {
      const frame = encodeMessage({ type: 'update', doc: 'notes', ref: index + 1, update })
      const payload = deflateSync(frame)
      wire += payload.length
      raw.sendMessage({ type: 'compressed', size: frame.length, payload })
    })
    expect(wire).toBeLessThan(64 * 1024)
    await raw.nextMessage((message) => message.type === 'saved' && message.ref === 3, 20_000)
    expect(throttled).toBeGreaterThan(0)
    raw.close()
  }, 30_000)

  it('hold limits on the inflated size, and refuse them on a version 1 session', async () => {
    await start()
    const big = encodeMessage({
      type: 'update',
      doc: 'notes',
      ref: 1,
      update: new Uint8Array(20 * 1024 * 1024),
    })
    const over = await RawSocket.weft(relay!.url, 2)
    over.sendMessage({ type: 'compressed', size: big.length, payload: deflateSync(big) })
    expect((await over.closed).code).toBe(1009)

    const small = encodeMessage({ type: 'ping', nonce: 1 })
    const lying = await RawSocket.weft(relay!.url, 2)
    lying.sendMessage({ type: 'compressed', size: small.length + 5, payload: deflateSync(small) })
    expect((await lying.closed).code).toBe(4400)

    const old = await RawSocket.weft(relay!.url, 1)
    old.sendMessage({ type: 'compressed', size: small.length, payload: deflateSync(small) })
    expect((await old.closed).code).toBe(4409)
  })
})
