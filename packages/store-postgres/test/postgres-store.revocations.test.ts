/** Revocations kept in PostgreSQL: a relay on another store of the same database refuses the revoked tokens. */
import { ERROR_CODES } from '@weft/protocol'
import { jwtAuth, REVOCATION_PREFIX } from '@weft/server'
import {
  RawSocket,
  signedToken,
  startPostgres,
  startTestRelay,
  TEST_SECRET,
  type TestPostgres,
  type TestRelay,
} from '@weft/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PostgresStore } from '../src/index.js'
import { freshSchema } from './postgres-fixture.js'

let server: TestPostgres
beforeAll(async () => {
  server = await startPostgres()
}, 60_000)
afterAll(async () => {
  await server.stop()
})

const auth = () => jwtAuth({ secret: TEST_SECRET, clockToleranceSec: 0 })

/** The close code a Weft socket of `token` gets, or 0 when it is welcomed. */
const outcome = async (relay: TestRelay, token: string): Promise<number> => {
  const raw = await RawSocket.hello(relay.url, token)
  try {
    const welcomed = raw
      .nextMessage((message) => message.type === 'welcome')
      .then(
        () => 0,
        () => -1,
      )
    const first = await Promise.race([welcomed, raw.closed.then(({ code }) => code)])
    return first === -1 ? (await raw.closed).code : first
  } finally {
    raw.close()
  }
}

describe('revocations on PostgreSQL', () => {
  it('hold for another relay on the same database, and lapsed ones are pruned', async () => {
    const schema = freshSchema()
    const first = await PostgresStore.open({ url: server.url, schema })
    const a = await startTestRelay({ store: first, auth: auth() })
    const old = await signedToken('mallory', { issuedAtSec: Math.floor(Date.now() / 1000) - 5 })
    const stolen = await signedToken('grace', { tokenId: 'stolen' })
    await a.relay.revocations.add({ subject: 'mallory', ttlMs: 60_000 })
    await a.relay.revocations.add({ tokenId: 'stolen', ttlMs: 60_000 })
    await a.relay.revocations.add({ subject: 'brief', ttlMs: 300 })
    await a.close()
    await new Promise((resolve) => setTimeout(resolve, 400))

    const second = await PostgresStore.open({ url: server.url, schema })
    const b = await startTestRelay({ store: second, auth: auth() })
    try {
      expect(await outcome(b, old)).toBe(ERROR_CODES.REVOKED.closeCode)
      expect(await outcome(b, stolen)).toBe(ERROR_CODES.REVOKED.closeCode)
      expect(await outcome(b, await signedToken('grace'))).toBe(0)
      const listed = await b.relay.revocations.list()
      expect(listed.map((each) => each.subject ?? each.tokenId).sort()).toEqual([
        'mallory',
        'stolen',
      ])
      // The lapsed one was deleted from the database when the relay read the list.
      expect(await second.readState(REVOCATION_PREFIX)).toHaveLength(2)
    } finally {
      await b.close()
    }
  })
})
