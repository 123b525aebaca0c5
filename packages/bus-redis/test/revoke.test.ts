/** Revocation over the bus: `revoke(subject)` on one relay closes that subject's sessions on every relay. */
import { jwtAuth } from '@weft/server'
import { startRedis, TEST_SECRET, writeToken, type TestRedis } from '@weft/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { startRelayPair, untilProviderSynced } from './support.js'

let redis: TestRedis

beforeAll(async () => {
  redis = await startRedis()
}, 300_000)

afterAll(async () => {
  await redis?.stop()
})

/** A stock provider of `url` with `user`'s token; resolves the close codes it sees. */
const providerOf = async (url: string, user: string) => {
  const provider = new WebsocketProvider(url, 'notes', new Y.Doc(), {
    WebSocketPolyfill: WebSocket as never,
    disableBc: true,
    connect: true,
    params: { token: await writeToken(user) },
  })
  const closed = new Promise<number>((resolve) =>
    provider.on('connection-close', (event: CloseEvent | null) => resolve(event?.code ?? 0)),
  )
  return { provider, closed }
}

describe('revoking a subject on relays sharing a bus', () => {
  it('closes its sessions on the other relay with 4401, and no one else', async () => {
    const { a, b } = await startRelayPair(redis.url, {
      relay: { auth: jwtAuth({ secret: TEST_SECRET }) },
    })
    const mallory = await providerOf(b.url, 'mallory')
    const grace = await providerOf(b.url, 'grace')
    try {
      await Promise.all([
        untilProviderSynced(mallory.provider),
        untilProviderSynced(grace.provider),
      ])
      const started = Date.now()
      expect(a.relay.revoke('mallory')).toBe(0)
      expect(await mallory.closed).toBe(4401)
      expect(Date.now() - started).toBeLessThan(2_000)
      // The other subject's session stays open.
      expect(grace.provider.wsconnected).toBe(true)
    } finally {
      mallory.provider.destroy()
      grace.provider.destroy()
    }
  })
})
