import { ERROR_CODES, type WeftMessage } from '@weft/protocol'
import { jwtAuth } from '@weft/server'
import { RawSocket, startTestRelay, TEST_SECRET, type TestRelay } from '@weft/testkit'
import { SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'

const REVOKED = ERROR_CODES.REVOKED.closeCode
const auth = (): ReturnType<typeof jwtAuth> =>
  jwtAuth({ secret: TEST_SECRET, clockToleranceSec: 0 })

/** A token for `sub` with write access to everything; `iat` in ms (default now), `jti` if given. */
const token = (sub: string, { jti, iatMs }: { jti?: string; iatMs?: number } = {}) => {
  const jwt = new SignJWT({ weft: { docs: [{ pattern: '**', access: 'write' }] } })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt(Math.floor((iatMs ?? Date.now()) / 1000))
    .setExpirationTime('1h')
  if (jti !== undefined) jwt.setJti(jti)
  return jwt.sign(new TextEncoder().encode(TEST_SECRET))
}

const relays: TestRelay[] = []
const sockets: RawSocket[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close()
  for (const relay of relays.splice(0)) await relay.close()
})

const start = async (options: Parameters<typeof startTestRelay>[0] = {}): Promise<TestRelay> => {
  const relay = await startTestRelay({ auth: auth(), ...options })
  relays.push(relay)
  return relay
}

const isType =
  (type: WeftMessage['type']) =>
  (message: WeftMessage): boolean =>
    message.type === type

/** A Weft socket of `tokenValue`, once welcomed. */
const welcomed = async (url: string, tokenValue: string): Promise<RawSocket> => {
  const raw = await RawSocket.hello(url, tokenValue)
  sockets.push(raw)
  await raw.nextMessage(isType('welcome'))
  return raw
}

/** The close code a Weft socket of `tokenValue` ends with (it must not be welcomed). */
const refusedWith = async (url: string, tokenValue: string): Promise<number> => {
  const raw = await RawSocket.hello(url, tokenValue)
  sockets.push(raw)
  const closed = await raw.closed
  expect(raw.frames.some((frame) => frame[0] === 1)).toBe(false)
  return closed.code
}

describe('revocations on one relay', () => {
  it('close every session of a subject within a second and refuse its older tokens', async () => {
    const relay = await start()
    const old = await token('mallory')
    const weft = await welcomed(relay.url, old)
    const yws = await RawSocket.open(`${relay.url}/notes?token=${old}`, false)
    sockets.push(yws)
    await yws.nextFrame()
    const grace = await welcomed(relay.url, await token('grace'))
    const started = Date.now()
    const revocation = await relay.relay.revocations.add({ subject: 'mallory', ttlMs: 60_000 })
    const [weftClosed, ywsClosed] = await Promise.all([weft.closed, yws.closed])
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(weftClosed.code).toBe(REVOKED)
    expect(ywsClosed.code).toBe(REVOKED)
    expect(await weft.nextMessage(isType('error')).catch(() => null)).toMatchObject({
      code: 'REVOKED',
    })
    // The same token, and any issued before the revocation, are refused; grace is untouched.
    expect(await refusedWith(relay.url, old)).toBe(REVOKED)
    const yws2 = await RawSocket.open(`${relay.url}/notes?token=${old}`, false)
    sockets.push(yws2)
    expect((await yws2.closed).code).toBe(REVOKED)
    grace.sendMessage({ type: 'ping', nonce: 3 })
    expect(await grace.nextMessage(isType('pong'))).toMatchObject({ nonce: 3 })
    // A new sign-in after the revocation is accepted.
    await welcomed(relay.url, await token('mallory', { iatMs: revocation.revokedAtMs + 1_000 }))
  })

  it('by token id refuse that token only', async () => {
    const relay = await start()
    const stolen = await token('alice', { jti: 'stolen' })
    const other = await token('alice', { jti: 'laptop' })
    const victim = await welcomed(relay.url, stolen)
    const kept = await welcomed(relay.url, other)
    await relay.relay.revocations.add({ tokenId: 'stolen', ttlMs: 60_000 })
    expect((await victim.closed).code).toBe(REVOKED)
    expect(await refusedWith(relay.url, stolen)).toBe(REVOKED)
    kept.sendMessage({ type: 'ping', nonce: 1 })
    expect(await kept.nextMessage(isType('pong'))).toMatchObject({ nonce: 1 })
    await welcomed(relay.url, other)
  })

  it('refuse a revoked token sent as refresh-token', async () => {
    const relay = await start()
    const revoked = await token('bob', { jti: 'old' })
    await relay.relay.revocations.add({ tokenId: 'old', ttlMs: 60_000 })
    const raw = await welcomed(relay.url, await token('bob', { jti: 'new' }))
    raw.sendMessage({ type: 'refresh-token', token: revoked })
    expect((await raw.closed).code).toBe(REVOKED)
  })

  it('lapse at their expiry, and can be lifted before', async () => {
    const relay = await start()
    const old = await token('carol', { iatMs: Date.now() - 10_000 })
    await relay.relay.revocations.add({ subject: 'carol', ttlMs: 800 })
    expect(await refusedWith(relay.url, old)).toBe(REVOKED)
    await new Promise((resolve) => setTimeout(resolve, 900))
    await welcomed(relay.url, old)
    expect(await relay.relay.revocations.list()).toEqual([])
    const lifted = await relay.relay.revocations.add({ subject: 'carol', ttlMs: 60_000 })
    expect(await refusedWith(relay.url, old)).toBe(REVOKED)
    await relay.relay.revocations.remove(lifted.id)
    await welcomed(relay.url, old)
  })

  it('hold across a restart of the relay on the same data directory, on sockets and HTTP', async () => {
    const first = await start({ httpApi: true })
    const old = await token('dave', { jti: 'd1' })
    await first.relay.revocations.add({ subject: 'dave', ttlMs: 60_000, reason: 'left' })
    await first.close({ keepData: true })
    relays.splice(relays.indexOf(first), 1)
    const second = await start({ dataDir: first.dataDir, httpApi: true })
    expect(await second.relay.revocations.list()).toMatchObject([
      { subject: 'dave', reason: 'left' },
    ])
    expect(await refusedWith(second.url, old)).toBe(REVOKED)
    const answer = await fetch(`${second.httpUrl}/v1/docs/notes`, {
      headers: { authorization: `Bearer ${old}` },
    })
    expect(answer.status).toBe(401)
    expect(await answer.json()).toMatchObject({ code: 'REVOKED' })
  })
})
