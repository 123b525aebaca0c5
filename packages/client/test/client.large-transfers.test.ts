/**
 * Large transfers through the real relay at its defaults: a 40 MB edit saved (over the 16 MiB
 * frame limit, in chunks), a 20 MB document synced through a connection cut every 300 ms
 * (resumed, not restarted), an upload resumed across cuts, and the document-size limit.
 */
import { CHUNK_BYTES, decodeMessage } from '@weft/protocol'
import {
  loadTrace,
  RawSocket,
  startFaultProxy,
  startTestRelay,
  testClient,
  type FaultProxy,
  type TestRelay,
} from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as Y from 'yjs'

let relay: TestRelay | null = null
let proxy: FaultProxy | null = null
afterEach(async () => {
  await proxy?.close()
  proxy = null
  await relay?.close()
  relay = null
})

/** About `bytes` of real prose: the automerge-paper text over and over, numbered. */
const prose = (bytes: number): string => {
  const paper = loadTrace('automerge-paper').endContent
  const parts: string[] = []
  let length = 0
  for (let copy = 0; length < bytes; copy++) {
    const part = `§${copy} ${paper}`
    parts.push(part)
    length += part.length
  }
  return parts.join('')
}

/** A WebSocket class that counts the bytes it receives and sends into `counts`. */
const countingSocket = (counts: { in: number; out: number }) =>
  class CountingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols)
      this.on('message', (data: Buffer) => (counts.in += data.byteLength))
    }

    override send(data: Uint8Array): void {
      counts.out += data.byteLength
      super.send(data)
    }
  }

/** Cuts every connection through `target` every `everyMs` until the returned stop is called. */
const cutEvery = (target: FaultProxy, everyMs: number): (() => void) => {
  const timer = setInterval(() => target.cutAll(), everyMs)
  return () => clearInterval(timer)
}

describe('large transfers', () => {
  it('save a 40 MB edit in chunks under 256 KB, and send it whole to another client', async () => {
    let largestFrameIn = 0
    relay = await startTestRelay({
      metrics: { frameIn: (bytes: number) => (largestFrameIn = Math.max(largestFrameIn, bytes)) },
    })
    const text = prose(40_000_000)
    const writer = testClient(relay).open('huge')
    await writer.whenSynced()
    writer.doc.getText('t').insert(0, text)
    await writer.whenSaved()
    expect(writer.pending).toBe(0)
    expect(largestFrameIn).toBeLessThan(256_000)
    expect(largestFrameIn).toBeGreaterThan(0)

    const reader = testClient(relay).open('huge')
    await reader.whenSynced()
    expect(reader.doc.getText('t').length).toBe(text.length)
    expect(reader.doc.getText('t').toString() === text).toBe(true)
  }, 120_000)

  it('sync a 20 MB document through a connection cut every 300 ms, resuming each time', async () => {
    relay = await startTestRelay()
    const writer = testClient(relay).open('big')
    await writer.whenSynced()
    writer.doc.getText('t').insert(0, prose(20_000_000))
    await writer.whenSaved()
    const documentBytes = Y.encodeStateAsUpdate(writer.doc).length

    proxy = await startFaultProxy({ target: relay.url })
    // A slow link (80 ms round trip): one sync takes longer than a connection lasts.
    proxy.setDelay({ minMs: 40, maxMs: 40 })
    const once = { in: 0, out: 0 }
    const uncut = testClient({ url: proxy.url }, { WebSocket: countingSocket(once) }).open('big')
    await uncut.whenSynced()
    const started = performance.now()
    await new Promise((resolve) => setTimeout(resolve, 0))
    const counts = { in: 0, out: 0 }
    const connectionsBefore = proxy.stats.connections
    const stop = cutEvery(proxy, 300)
    try {
      const reader = testClient({ url: proxy.url }, { WebSocket: countingSocket(counts) }).open(
        'big',
      )
      await reader.whenSynced()
      const connections = proxy.stats.connections - connectionsBefore
      console.log(
        `20 MB document (${documentBytes} bytes encoded): one uncut sync received ${once.in} bytes; ` +
          `through cuts every 300 ms it took ${connections} connections, ${counts.in} bytes, ` +
          `${Math.round(performance.now() - started)} ms`,
      )
      expect(reader.doc.getText('t').toString() === writer.doc.getText('t').toString()).toBe(true)
      // Cut several times on the way, and resumed: far less than a restart each time would take.
      expect(connections).toBeGreaterThanOrEqual(3)
      expect(counts.in).toBeLessThan(1.5 * once.in)
      expect(counts.in).toBeLessThan(1.5 * documentBytes)
    } finally {
      stop()
    }
  }, 120_000)

  it('resume an upload cut by reconnects instead of starting it over', async () => {
    let bytesIn = 0
    relay = await startTestRelay({ metrics: { frameIn: (bytes: number) => (bytesIn += bytes) } })
    proxy = await startFaultProxy({ target: relay.url })
    // 20 ms round trips: a reconnect takes four before the upload can go on.
    proxy.setDelay({ minMs: 10, maxMs: 10 })
    const text = prose(12_000_000)

    const reference = testClient({ url: proxy.url }).open('reference')
    await reference.whenSynced()
    const before = bytesIn
    reference.doc.getText('t').insert(0, text)
    await reference.whenSaved()
    const uploadBytes = bytesIn - before

    const writer = testClient({ url: proxy.url }).open('cut')
    await writer.whenSynced()
    const cutBefore = bytesIn
    const connectionsBefore = proxy.stats.connections
    const stop = cutEvery(proxy, 300)
    try {
      writer.doc.getText('t').insert(0, text)
      await writer.whenSaved()
    } finally {
      stop()
    }
    const sent = bytesIn - cutBefore
    const connections = proxy.stats.connections - connectionsBefore
    console.log(
      `a 12 MB edit: ${uploadBytes} bytes uncut; through cuts every 300 ms ${sent} bytes over ${connections} connections`,
    )
    expect(connections).toBeGreaterThanOrEqual(3)
    // The first resend is a different frame (the answer to the relay's sync step 1 instead of
    // the edit); from then on each connection continues where the last stopped.
    expect(sent).toBeLessThan(3 * uploadBytes)
    const reader = testClient(relay).open('cut')
    await reader.whenSynced()
    expect(reader.doc.getText('t').length).toBe(text.length)
  }, 120_000)

  it('refuse an edit over the document-size limit with DOC_TOO_LARGE, and keep the document open', async () => {
    relay = await startTestRelay({ maxDocBytes: 2_000_000 })
    const client = testClient(relay)
    const handle = client.open('limited')
    await handle.whenSynced()
    const reset = new Promise((resolve) => handle.once('reset', resolve))
    handle.doc.getText('big').insert(0, prose(3_000_000))
    await expect(handle.whenSaved()).rejects.toMatchObject({ code: 'DOC_TOO_LARGE' })
    // The refused edit is set aside and the document rebuilt from the relay's state.
    await reset
    expect(handle.rejected.map((edit) => edit.code)).toContain('DOC_TOO_LARGE')
    // The document stays open and takes edits within the limit.
    handle.doc.getText('small').insert(0, 'still here')
    await handle.whenSaved()
    const reader = testClient(relay).open('limited')
    await reader.whenSynced()
    expect(reader.doc.getText('small').toString()).toBe('still here')
    expect(reader.doc.getText('big').length).toBe(0)
  }, 60_000)

  it('send a client of protocol 2 its large sync whole, never in chunks', async () => {
    relay = await startTestRelay()
    const writer = testClient(relay).open('whole')
    await writer.whenSynced()
    writer.doc.getText('t').insert(0, prose(2_000_000))
    await writer.whenSaved()
    const raw = await RawSocket.weft(relay.url, 2)
    raw.sendMessage({ type: 'open', doc: 'whole', stateVector: Uint8Array.of(0) })
    const frame = await raw.nextFrame((bytes) => decodeMessage(bytes).type === 'compressed')
    expect(frame.length).toBeGreaterThan(CHUNK_BYTES)
    expect(raw.frames.some((bytes) => decodeMessage(bytes).type === 'chunk')).toBe(false)
    raw.close()

    const modern = await RawSocket.weft(relay.url, 3)
    modern.sendMessage({ type: 'open', doc: 'whole', stateVector: Uint8Array.of(0) })
    const chunk = decodeMessage(
      await modern.nextFrame((bytes) => decodeMessage(bytes).type === 'chunk'),
    )
    expect(chunk).toMatchObject({ type: 'chunk', index: 0 })
    modern.close()
  }, 60_000)
})
