import { WeftError } from '@weft/protocol'
import {
  decodeBusMessage,
  encodeBusMessage,
  MemoryStore,
  silentLogger,
  type BusMessage,
  type Identity,
} from '@weft/server'
import { describe, expect, it } from 'vitest'
import { covers, REVOCATION_PREFIX, RevocationList } from '../src/revocations.js'

const HOUR = 3_600_000

/** A list over `store` whose clock the test moves. */
const listAt = (store: MemoryStore, clock: { now: number }): RevocationList =>
  new RevocationList({ store, logger: silentLogger, now: () => clock.now })

const identity = (subject: string, extra: Partial<Identity> = {}): Identity => ({
  subject,
  scopes: [],
  expiresAtMs: null,
  ...extra,
})

const codeOf = async (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof WeftError ? error.code : String(error)),
  )

describe('RevocationList', () => {
  it('refuses a subject’s tokens issued up to the revocation, not those issued after', async () => {
    const clock = { now: 1_000_000 }
    const list = listAt(new MemoryStore(), clock)
    await list.whenLoaded()
    await list.add({ subject: 'alice', ttlMs: HOUR, reason: 'laptop stolen' })
    const refusal = list.refusal(identity('alice', { issuedAtMs: 999_000 }))
    expect(refusal?.code).toBe('REVOKED')
    expect(refusal?.message).toContain('laptop stolen')
    // iat has whole seconds: the revocation's own second counts as before it.
    expect(list.refusal(identity('alice', { issuedAtMs: 1_000_000 }))).not.toBeNull()
    expect(list.refusal(identity('alice'))).not.toBeNull() // no iat: refused
    expect(list.refusal(identity('alice', { issuedAtMs: 1_001_000 }))).toBeNull()
    expect(list.refusal(identity('bob', { issuedAtMs: 0 }))).toBeNull()
  })

  it('refuses one token by its id, whatever its subject, and no other', async () => {
    const clock = { now: 5_000 }
    const list = listAt(new MemoryStore(), clock)
    await list.add({ tokenId: 'jti-1', expiresAtMs: 5_000 + HOUR })
    expect(list.refusal(identity('alice', { tokenId: 'jti-1', issuedAtMs: 9_000 }))).not.toBeNull()
    expect(list.refusal(identity('alice', { tokenId: 'jti-2', issuedAtMs: 0 }))).toBeNull()
    expect(list.refusal(identity('alice'))).toBeNull()
  })

  it('keeps revocations in the store: another list over it reads them, and lifting removes them', async () => {
    const store = new MemoryStore()
    const clock = { now: 10_000 }
    const first = listAt(store, clock)
    const made = await first.add({ subject: 'carol', ttlMs: HOUR })
    const second = listAt(store, clock)
    await second.whenLoaded()
    expect(second.list()).toEqual([made])
    expect(second.refusal(identity('carol', { issuedAtMs: 0 }))).not.toBeNull()
    await second.remove(made.id)
    expect(await store.readState(REVOCATION_PREFIX)).toEqual([])
    await first.reload()
    expect(first.list()).toEqual([])
    expect(await codeOf(first.remove(made.id))).toBe('NOT_FOUND')
  })

  it('lets a revocation lapse at its expiry and prunes it from the store', async () => {
    const store = new MemoryStore()
    const clock = { now: 0 }
    const list = listAt(store, clock)
    await list.add({ subject: 'dave', ttlMs: 1_000 })
    expect(list.refusal(identity('dave'))).not.toBeNull()
    clock.now = 1_000
    expect(list.refusal(identity('dave'))).toBeNull()
    expect(list.list()).toEqual([])
    expect(await store.readState(REVOCATION_PREFIX)).toHaveLength(1)
    await list.reload()
    expect(await store.readState(REVOCATION_PREFIX)).toEqual([])
  })

  it('keeps what it learned from the bus through a read of the store started before', async () => {
    const store = new MemoryStore()
    const clock = { now: 0 }
    const list = listAt(store, clock)
    await list.whenLoaded()
    const reading = list.reload()
    list.learn({ id: 'x', subject: 'erin', revokedAtMs: 0, expiresAtMs: HOUR, reason: 'r' })
    await reading
    expect(list.refusal(identity('erin'))).not.toBeNull()
    // A read started after it is the truth: the store has no such revocation.
    await list.reload()
    expect(list.refusal(identity('erin'))).toBeNull()
  })

  it('refuses bad input with INVALID_ARGUMENT naming the problem', async () => {
    const list = listAt(new MemoryStore(), { now: 100_000 })
    const bad: unknown[] = [
      {},
      { subject: 'a', tokenId: 'b', ttlMs: 1 },
      { subject: 'a' },
      { subject: 'a', ttlMs: 1, expiresAtMs: 200_000 },
      { subject: '', ttlMs: 1 },
      { subject: 'a', ttlMs: -5 },
      { subject: 'a', ttlMs: 1.5 },
      { subject: 'a', ttlMs: 400 * 24 * HOUR },
      { subject: 'a', expiresAtMs: 50_000 },
      { subject: 'a', ttlMs: 1, extra: true },
      { subject: 7, ttlMs: 1 },
      null,
    ]
    for (const input of bad) {
      expect(await codeOf(list.add(input as never)), JSON.stringify(input)).toBe('INVALID_ARGUMENT')
    }
    expect(list.list()).toEqual([])
  })

  it('covers() follows the semantics the docs state', () => {
    const bySubject = { id: '1', subject: 's', revokedAtMs: 2_000, expiresAtMs: 9_000, reason: '' }
    expect(covers(bySubject, identity('s', { issuedAtMs: 2_000 }))).toBe(true)
    expect(covers(bySubject, identity('s', { issuedAtMs: 3_000 }))).toBe(false)
    const byToken = { id: '2', tokenId: 't', revokedAtMs: 2_000, expiresAtMs: 9_000, reason: '' }
    expect(covers(byToken, identity('s', { tokenId: 't', issuedAtMs: 5_000 }))).toBe(true)
  })
})

describe('a revocation on the bus', () => {
  it('round-trips, by subject and by token id, and without one as older relays send', () => {
    const messages: BusMessage[] = [
      {
        kind: 'revoke',
        doc: '',
        origin: 'a',
        subject: 'alice',
        reason: 'r',
        revocation: { id: 'id-1', revokedAtMs: 1_700_000_000_000, expiresAtMs: 1_700_000_060_000 },
      },
      {
        kind: 'revoke',
        doc: '',
        origin: 'a',
        subject: '',
        reason: 'r',
        revocation: { id: 'id-2', tokenId: 'jti', revokedAtMs: 1, expiresAtMs: 2 },
      },
      { kind: 'revoke', doc: '', origin: 'a', subject: 'bob', reason: 'r' },
    ]
    for (const message of messages) {
      expect(decodeBusMessage(encodeBusMessage(message))).toEqual(message)
    }
    // Naming neither (or both) a subject and a token id is not a message this format writes.
    const neither = encodeBusMessage({
      kind: 'revoke',
      doc: '',
      origin: 'a',
      subject: '',
      reason: 'r',
      revocation: { id: 'id-3', revokedAtMs: 1, expiresAtMs: 2 },
    })
    expect(decodeBusMessage(neither)).toBeNull()
  })
})
