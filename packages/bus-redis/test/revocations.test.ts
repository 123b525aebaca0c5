/** Persisted revocations on relays sharing a store and a bus: enforced on every relay, even when the bus message is lost. */
import { ERROR_CODES } from '@weft/protocol'
import { jwtAuth } from '@weft/server'
import {
  RawSocket,
  signedToken,
  startRedis,
  TEST_SECRET,
  type TestRedis,
  type TestRelay,
} from '@weft/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { droppingBus, startRelayPair } from './support.js'

const REVOKED = ERROR_CODES.REVOKED.closeCode
let redis: TestRedis
const sockets: RawSocket[] = []

beforeAll(async () => {
  redis = await startRedis()
}, 300_000)

afterAll(async () => {
  await redis?.stop()
})

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close()
})

const relayOptions = { auth: jwtAuth({ secret: TEST_SECRET, clockToleranceSec: 0 }) }

/** A Weft socket of `token` on `relay`: resolves once welcomed, or with the close code. */
const connect = async (relay: TestRelay, token: string): Promise<RawSocket | number> => {
  const raw = await RawSocket.hello(relay.url, token)
  sockets.push(raw)
  const welcomed = raw
    .nextMessage((message) => message.type === 'welcome')
    .then(
      () => raw,
      () => null,
    )
  const result = await Promise.race([welcomed, raw.closed.then(({ code }) => code)])
  return result === null ? (await raw.closed).code : result
}

const welcomed = async (relay: TestRelay, token: string): Promise<RawSocket> => {
  const result = await connect(relay, token)
  if (typeof result === 'number') throw new Error(`refused with ${result}`)
  return result
}

describe('revocations on relays sharing a bus', () => {
  it('close the sessions on the other relay within a second, which then refuses the token', async () => {
    const { a, b } = await startRelayPair(redis.url, { relay: relayOptions })
    const old = await signedToken('mallory', { issuedAtSec: Math.floor(Date.now() / 1000) - 2 })
    const onB = await welcomed(b, old)
    const grace = await welcomed(b, await signedToken('grace'))
    const started = Date.now()
    await a.relay.revocations.add({ subject: 'mallory', ttlMs: 60_000 })
    expect((await onB.closed).code).toBe(REVOKED)
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(await connect(b, old)).toBe(REVOKED)
    expect(grace.open).toBe(true)
    // By token id too.
    const stolen = await signedToken('grace', { tokenId: 'stolen' })
    const victim = await welcomed(b, stolen)
    await a.relay.revocations.add({ tokenId: 'stolen', ttlMs: 60_000 })
    expect((await victim.closed).code).toBe(REVOKED)
    expect(await connect(b, stolen)).toBe(REVOKED)
    expect(grace.open).toBe(true)
  })

  it('reach a relay that lost the bus message by its periodic read of the store', async () => {
    const { a, b } = await startRelayPair(redis.url, {
      relay: relayOptions,
      wrapA: (bus) => droppingBus(bus, (message) => message.kind === 'revoke'),
    })
    const old = await signedToken('mallory', { issuedAtSec: Math.floor(Date.now() / 1000) - 2 })
    const onB = await welcomed(b, old)
    const started = Date.now()
    await a.relay.revocations.add({ subject: 'mallory', ttlMs: 60_000 })
    expect(await connect(a, old)).toBe(REVOKED)
    expect((await onB.closed).code).toBe(REVOKED)
    // Within the relay's 5 s reload interval (plus the read itself).
    expect(Date.now() - started).toBeLessThan(6_500)
    expect(await connect(b, old)).toBe(REVOKED)
  }, 15_000)
})
