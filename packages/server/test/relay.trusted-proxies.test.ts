import { WEFT_SUBPROTOCOL } from '@weft/protocol'
import { startTestRelay, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'

// The relay at its default limits (1,024 sockets per client address), behind a reverse proxy on
// this machine: every socket comes from 127.0.0.1 and names its client in X-Forwarded-For.
let relay: TestRelay | null = null
const sockets: WebSocket[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate()
  await relay?.close()
  relay = null
})

/** Opens a socket claiming `client` through the proxy; resolves with the HTTP status it got. */
const connect = (url: string, client: string | null): Promise<number> =>
  new Promise((resolve) => {
    const headers: Record<string, string> = client === null ? {} : { 'x-forwarded-for': client }
    const socket = new WebSocket(url, [WEFT_SUBPROTOCOL], { headers })
    sockets.push(socket)
    socket.once('open', () => resolve(101))
    socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0))
    socket.once('error', () => resolve(0))
  })

/** 2,000 distinct clients in 198.18.0.0/15 (not a private range, so never a trusted proxy). */
const clientAddress = (index: number): string => `198.18.${index >> 8}.${index & 255}`

describe('a relay behind a trusted proxy', () => {
  it('accepts 2,000 clients through one proxy address with default limits', async () => {
    relay = await startTestRelay({ helloTimeoutMs: 60_000 })
    const url = relay.url
    const statuses = await Promise.all(
      Array.from({ length: 2000 }, (_, index) => connect(url, clientAddress(index))),
    )
    expect(statuses.filter((status) => status !== 101)).toEqual([])
    expect(relay.relay.connectionCount).toBe(2000)
  }, 60_000)

  it('still caps one client behind the proxy, and the proxy itself without headers', async () => {
    relay = await startTestRelay({ helloTimeoutMs: 60_000, maxConnectionsPerAddress: 20 })
    const url = relay.url
    const one = await Promise.all(Array.from({ length: 21 }, () => connect(url, '198.18.0.1')))
    expect(one.filter((status) => status === 429)).toHaveLength(1)
    const direct = await Promise.all(Array.from({ length: 21 }, () => connect(url, null)))
    expect(direct.filter((status) => status === 429)).toHaveLength(1)
  })

  it('ignores forwarding headers from peers that are not trusted', async () => {
    relay = await startTestRelay({
      helloTimeoutMs: 60_000,
      maxConnectionsPerAddress: 20,
      trustedProxies: [],
    })
    const url = relay.url
    const spoofed = await Promise.all(
      Array.from({ length: 21 }, (_, index) => connect(url, clientAddress(index))),
    )
    expect(spoofed.filter((status) => status === 429)).toHaveLength(1)
  })
})
