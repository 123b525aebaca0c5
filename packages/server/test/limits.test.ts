import { request } from 'node:http'
import { WEFT_SUBPROTOCOL } from '@weft/protocol'
import { startTestRelay, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'

let relay: TestRelay | undefined
const sockets: WebSocket[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate()
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
