import { applyTxn, loadTrace, startTestRelay, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

// Stock y-websocket providers at full speed against the relay at its DEFAULT limits: one update
// per message, as every existing Yjs app sends them.
const UPDATES = 50_000
let relay: TestRelay | null = null
const providers: WebsocketProvider[] = []

afterEach(async () => {
  for (const provider of providers.splice(0)) provider.destroy()
  await relay?.close()
  relay = null
})

const stockProvider = (url: string, name: string, doc: Y.Doc): WebsocketProvider => {
  // disableBc: in one process, providers would otherwise talk over BroadcastChannel.
  const provider = new WebsocketProvider(url, name, doc, {
    WebSocketPolyfill: WebSocket as never,
    disableBc: true,
  })
  providers.push(provider)
  return provider
}

const synced = (provider: WebsocketProvider): Promise<void> =>
  new Promise((resolve) => {
    if (provider.synced) resolve()
    else provider.once('sync', () => resolve())
  })

describe('a stock y-websocket writer at full speed, relay at its defaults', () => {
  it(`replays ${UPDATES} updates one per message without being dropped`, async () => {
    let throttles = 0
    relay = await startTestRelay({
      heartbeatIntervalMs: 30_000,
      metrics: { socketThrottled: () => (throttles += 1) },
    })
    const trace = loadTrace('automerge-paper')
    const [writerDoc, readerDoc] = [new Y.Doc(), new Y.Doc()]
    const writer = stockProvider(relay.url, 'fast', writerDoc)
    const reader = stockProvider(relay.url, 'fast', readerDoc)
    await Promise.all([synced(writer), synced(reader)])
    let drops = 0
    for (const provider of [writer, reader])
      provider.on('status', ({ status }: { status: string }) => {
        if (status === 'disconnected') drops += 1
      })

    let sent = 0
    writerDoc.on('update', () => (sent += 1))
    const text = writerDoc.getText('text')
    const started = performance.now()
    for (const txn of trace.txns.slice(0, UPDATES)) applyTxn(text, txn.patches)
    expect(sent).toBe(UPDATES)
    const expected = text.toString()
    const readerText = readerDoc.getText('text')
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reader has ${readerText.length} of ${expected.length} characters`)),
        120_000,
      )
      const check = (): void => {
        if (readerText.length !== expected.length || readerText.toString() !== expected) return
        clearTimeout(timer)
        resolve()
      }
      readerText.observe(check)
      check()
    })
    console.log(
      `stock writer: ${UPDATES} updates at the reader after ${Math.round(performance.now() - started)} ms`,
    )
    expect(drops).toBe(0)
    // The relay kept reading at the writer's pace: its limits did not hold a fast writer back.
    expect(throttles).toBe(0)
    const stored = new Y.Doc()
    Y.applyUpdate(stored, await (relay as TestRelay).relay.documents.update('fast'))
    expect(stored.getText('text').toString()).toBe(expected)
  }, 180_000)
})

describe('a stock y-websocket client alone on a document', () => {
  it('stays connected while idle past its 30 s message timeout (the relay never echoes presence)', async () => {
    relay = await startTestRelay()
    const provider = stockProvider(relay.url, 'alone', new Y.Doc())
    await synced(provider)
    let drops = 0
    provider.on('status', ({ status }: { status: string }) => {
      if (status === 'disconnected') drops += 1
    })
    // Its presence renewals (every 15 s) are answered when nothing else went to it for 10 s.
    await new Promise((resolve) => setTimeout(resolve, 36_000))
    expect(drops).toBe(0)
    expect(provider.wsconnected).toBe(true)
  }, 60_000)
})
