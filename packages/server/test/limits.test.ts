import { request } from 'node:http'
import { WEFT_SUBPROTOCOL } from '@weft/protocol'
import { RawSocket, startTestRelay, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'

let relay: TestRelay | undefined
const sockets: WebSocket[] = []
const raws: RawSocket[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate()
  for (const raw of raws.splice(0)) raw.close()
  await relay?.close()
  relay = undefined
})

/** Tries a WebSocket upgrade; resolves with the HTTP status of a refusal, or 101 when it opened. */
const tryUpgrade = (url: string, headers: Record<string, string> = {}): Promise<number> =>
  new Promise((resolve) => {
    const socket = new WebSocket(url, [WEFT_SUBPROTOCOL], { headers })
    sockets.push(socket)
    socket.once('open', () => resolve(101))
    socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0))
    socket.once('error', () => resolve(-1))
  })

describe('connection limits', () => {
  it('refuses more sockets from one address than allowed with 429, and admits again after one leaves', async () => {
    relay = await startTestRelay({ maxConnectionsPerAddress: 3 })
    const results = [] as number[]
    for (let index = 0; index < 4; index++) results.push(await tryUpgrade(relay.url))
    expect(results).toEqual([101, 101, 101, 429])
    const first = sockets[0]!
    await new Promise<void>((resolve) => {
      first.once('close', () => resolve())
      first.close()
    })
    // The relay sees the close shortly after the client does.
    let status = 0
    for (let attempt = 0; attempt < 50 && status !== 101; attempt++) {
      status = await tryUpgrade(relay.url)
      if (status !== 101) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(status).toBe(101)
  })

  it('refuses browser origins outside the allow-list with 403; non-browser clients pass', async () => {
    relay = await startTestRelay({ allowedOrigins: ['https://app.example.com'] })
    expect(await tryUpgrade(relay.url, { Origin: 'https://evil.example' })).toBe(403)
    expect(await tryUpgrade(relay.url, { Origin: 'https://app.example.com' })).toBe(101)
    expect(await tryUpgrade(relay.url)).toBe(101)
  })

  it('refuses oversized upgrade headers with 431 before the handshake', async () => {
    relay = await startTestRelay({ maxHeaderBytes: 1024 })
    expect(await tryUpgrade(relay.url, { 'X-Padding': 'x'.repeat(2000) })).toBe(431)
    expect(await tryUpgrade(relay.url, { 'X-Padding': 'x'.repeat(100) })).toBe(101)
  })

  it('throttles a socket over its message rate instead of dropping anything', async () => {
    relay = await startTestRelay({ maxMessagesPerSecond: 100 })
    const raw = await RawSocket.weft(relay.url)
    raws.push(raw)
    // 200 messages are the burst; the next 200 must wait about 2 s at 100 a second.
    const started = performance.now()
    const count = 400
    for (let nonce = 1; nonce <= count; nonce++) raw.sendMessage({ type: 'ping', nonce })
    await raw.nextMessage((message) => message.type === 'pong' && message.nonce === count, 10_000)
    const elapsed = performance.now() - started
    const pongs = raw.frames.length - 1 // all but welcome
    expect(pongs).toBe(count)
    expect(elapsed).toBeGreaterThan(1000)
    expect(raw.open).toBe(true)
  })

  it('at its defaults, charges each message a fixed cost: a flood of tiny ones is paced, none lost', async () => {
    let throttles = 0
    relay = await startTestRelay({ metrics: { socketThrottled: () => (throttles += 1) } })
    const raw = await RawSocket.weft(relay.url)
    raws.push(raw)
    // 8 MiB/s at 256 bytes a message plus its size, twice that in a burst: 200,000 tiny
    // messages (about 54 MB) outrun the budget unless sending them takes over 4 s, so the relay
    // stops reading for a while, however busy the machine; every message is still answered.
    const count = 200_000
    for (let nonce = 1; nonce <= count; nonce++) raw.sendMessage({ type: 'ping', nonce })
    await raw.nextMessage((message) => message.type === 'pong' && message.nonce === count, 60_000)
    expect(raw.frames.length - 1).toBe(count)
    expect(throttles).toBeGreaterThan(0)
    expect(raw.open).toBe(true)
  }, 90_000)

  it('keeps plain HTTP routes working while upgrades are refused', async () => {
    relay = await startTestRelay({ maxConnectionsPerAddress: 1 })
    expect(await tryUpgrade(relay.url)).toBe(101)
    expect(await tryUpgrade(relay.url)).toBe(429)
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${relay!.url.replace('ws', 'http')}/`, (response) => {
        response.resume()
        resolve(response.statusCode ?? 0)
      })
      req.on('error', reject)
      req.end()
    })
    expect(status).toBe(404)
  })
})

describe('slow consumers', () => {
  it('closes a reader that does not keep up with 4431; its client reconnects, resyncs and converges', async () => {
    const { createClient } = await import('@weft/client')
    relay = await startTestRelay({ maxBufferedBytes: 256 * 1024 })
    const opened: WebSocket[] = []
    class TrackedWebSocket extends WebSocket {
      constructor(url: string, protocols?: string[]) {
        super(url, protocols)
        opened.push(this)
      }
    }
    const backoff = { initialMs: 20, maxMs: 100, slowRetryMs: 100, stableMs: 1000 }
    const writer = createClient({ url: relay.url, WebSocket: WebSocket, backoff })
    const reader = createClient({ url: relay.url, WebSocket: TrackedWebSocket as never, backoff })
    try {
      const [source, target] = [writer.open('firehose'), reader.open('firehose')]
      await Promise.all([source.whenSynced(), target.whenSynced()])
      const codes: string[] = []
      reader.on('status', (status) => {
        if (status.state === 'connecting' && status.reason) codes.push(status.reason)
      })
      // The reader stops reading its socket; the relay's send buffer to it fills up.
      const stalled = (opened[0] as unknown as { _socket: { pause(): void; resume(): void } })
        ._socket
      stalled.pause()
      const chunk = 'x'.repeat(256 * 1024)
      for (let index = 0; index < 64; index++) {
        source.doc.getText('t').insert(0, chunk)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      await source.whenSaved()
      stalled.resume()
      const expected = source.doc.getText('t').length
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('reader did not converge')), 20_000)
        const check = (): void => {
          if (target.doc.getText('t').length === expected) {
            clearTimeout(timer)
            resolve()
          }
        }
        target.doc.on('afterTransaction', check)
        check()
      })
      expect(opened.length).toBeGreaterThan(1)
      expect(codes.join(' ')).toContain('SLOW_CONSUMER')
    } finally {
      await writer.close()
      await reader.close()
    }
  }, 30_000)
})

describe('the handshake', () => {
  it('never negotiates permessage-deflate, even when the client offers it', async () => {
    relay = await startTestRelay()
    const socket = new WebSocket(relay.url, [WEFT_SUBPROTOCOL], { perMessageDeflate: true })
    sockets.push(socket)
    let offered: string | undefined = 'not seen'
    socket.once('upgrade', (response) => {
      offered = response.headers['sec-websocket-extensions'] as string | undefined
    })
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
    })
    expect(offered).toBeUndefined()
    expect(socket.extensions).toBe('')
  })
})
