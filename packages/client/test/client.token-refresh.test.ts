import { createClient, type SyncStatus } from '@weft/client'
import { jwtAuth } from '@weft/server'
import {
  signedToken,
  startTestRelay,
  TEST_SECRET,
  testClient,
  until,
  type TestRelay,
} from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'

const relays: TestRelay[] = []

afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.close()
})

/** A relay that accepts tokens signed with TEST_SECRET until their exact `exp` (no tolerance). */
const start = async (): Promise<TestRelay> => {
  const relay = await startTestRelay({
    auth: jwtAuth({ secret: TEST_SECRET, clockToleranceSec: 0 }),
  })
  relays.push(relay)
  return relay
}

/** A token for `sub` with write access to everything, valid `lifetimeSec` seconds from now. */
const token = (sub: string, lifetimeSec: number): Promise<string> =>
  signedToken(sub, { lifetimeSec })

describe('automatic token refresh', () => {
  it('sends a fresh token before each expiry, keeping the connection and sync unbroken', async () => {
    const relay = await start()
    let issued = 0
    const client = testClient(relay, {
      token: () => {
        issued += 1
        return token('alice', 3)
      },
      tokenRefreshMarginMs: 1_200,
    })
    const statuses: SyncStatus[] = []
    const retries: string[] = []
    client.on('status', (status) => statuses.push(status))
    client.on('retry', ({ reason }) => retries.push(reason))
    const notes = client.open('notes')
    await notes.whenSynced()
    const reader = testClient(relay, { user: 'reader' }).open('notes')
    await reader.whenSynced()
    const started = Date.now()
    // Two whole token lifetimes: without refresh the relay closes the socket after 3 s.
    for (let second = 0; Date.now() - started < 6_500; second += 1) {
      notes.doc.getText('t').insert(0, `${second % 10}`)
      await until(
        reader.doc,
        'update',
        () => reader.doc.getText('t').toString() === notes.doc.getText('t').toString(),
        () => 'the reader to see the edit',
        2_000,
      )
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    expect(issued).toBeGreaterThanOrEqual(3)
    expect(retries).toEqual([])
    expect(statuses.filter((status) => status.state === 'connecting')).toEqual([])
    expect(client.status.state).toBe('synced')
  }, 15_000)

  it('stops after a revocation instead of reconnecting, and says so in its status', async () => {
    const relay = await start()
    let issued = 0
    const client = createClient({
      url: relay.url,
      WebSocket,
      token: () => {
        issued += 1
        return token('mallory', 3_600)
      },
      backoff: { initialMs: 10, maxMs: 50 },
    })
    const retries: string[] = []
    client.on('retry', ({ reason }) => retries.push(reason))
    const notes = client.open('notes')
    await notes.whenSynced()
    // A token issued in the revocation's second counts as issued before it: the token
    // function's next tokens are still refused, and the client must not loop on them.
    await relay.relay.revocations.add({ subject: 'mallory', ttlMs: 60_000, reason: 'banned' })
    await until(
      client,
      'status',
      () => client.status.state === 'error',
      () => `an error status, got ${JSON.stringify(client.status)}`,
      2_000,
    )
    expect(client.status).toMatchObject({ state: 'error', code: 'REVOKED' })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(retries).toEqual([])
    expect(issued).toBe(1)
    await client.close()
  })

  it('refuses a bad tokenRefreshMarginMs', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '60s']) {
      expect(
        () =>
          createClient({
            url: 'ws://127.0.0.1:1',
            WebSocket,
            autoConnect: false,
            tabs: false,
            tokenRefreshMarginMs: bad as number,
          }),
        String(bad),
      ).toThrow(/tokenRefreshMarginMs/)
    }
  })
})
