/** The DocStore conformance suite on PostgresStore against a real PostgreSQL, plain and encrypted. */
import { randomBytes } from 'node:crypto'
import {
  logTailConformanceTests,
  runDocStoreSuite,
  startPostgres,
  type TestPostgres,
} from '@weft/testkit'
import { afterAll, beforeAll, describe } from 'vitest'
import { PostgresStore, type EncryptionKey } from '../src/index.js'
import { storeFixture } from './postgres-fixture.js'

let server: TestPostgres
beforeAll(async () => {
  server = await startPostgres()
}, 60_000)
afterAll(async () => {
  await server.stop()
})

const keyA: EncryptionKey = { id: 'a', key: randomBytes(32) }
const keyB: EncryptionKey = { id: 'b', key: randomBytes(32) }

runDocStoreSuite('PostgresStore', ({ historyMs }) => storeFixture(server, { historyMs }), {
  durable: true,
})

runDocStoreSuite(
  'PostgresStore, encrypted',
  ({ historyMs }) => storeFixture(server, { historyMs, encryption: { keys: [keyA] } }),
  { durable: true },
)

describe('PostgresStore log tail', () => {
  logTailConformanceTests(async () => {
    const { store, cleanup } = await storeFixture(server, {})
    return { store: store as PostgresStore, cleanup }
  })
})

// Reopened after a rotation: what was written under A is read back with B encrypting.
runDocStoreSuite(
  'PostgresStore, encrypted, key rotated on reopen',
  ({ historyMs }) =>
    storeFixture(
      server,
      { historyMs, encryption: { keys: [keyA] } },
      { historyMs, encryption: { keys: [keyA, keyB] } },
    ),
  { durable: true },
)
