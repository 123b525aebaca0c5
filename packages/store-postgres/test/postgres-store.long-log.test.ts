/**
 * PostgresStore with data that grows with use: a log far past what fits in a call's arguments,
 * and more documents than one page of a listing — read in pages, never spread.
 */
import {
  appendEntries,
  keyUpdates,
  runLongLogSuite,
  startPostgres,
  type TestPostgres,
} from '@weft/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PostgresStore } from '../src/index.js'
import { freshSchema } from './postgres-fixture.js'

const OLD_ENTRIES = 60_000
const RECENT_RECORDS = 4
const PER_RECENT_RECORD = 10_000
const DOCS = 3_000

let server: TestPostgres
let updates: Uint8Array[] = []
beforeAll(async () => {
  server = await startPostgres()
  updates = keyUpdates(DOCS)
}, 60_000)
afterAll(async () => {
  await server.stop()
})

runLongLogSuite(
  'PostgresStore',
  (historyMs) => PostgresStore.open({ url: server.url, schema: freshSchema(), historyMs }),
  { oldEntries: OLD_ENTRIES, recentRecords: RECENT_RECORDS, perRecent: PER_RECENT_RECORD },
)

describe('PostgresStore with many documents', () => {
  it(`lists ${DOCS} documents, more than one page`, async () => {
    const store = await PostgresStore.open({ url: server.url, schema: freshSchema() })
    try {
      const names = Array.from({ length: DOCS }, (_, index) => `d${String(index).padStart(5, '0')}`)
      await Promise.all(
        names.map((name, index) => store.append(name, appendEntries(updates, index, index + 1, 1))),
      )
      const listed = await store.list()
      expect(listed.map((doc) => doc.name)).toEqual(names)
      expect(listed.every((doc) => doc.logRecords === 1 && doc.lastWriteAtMs === 1)).toBe(true)
    } finally {
      await store.close()
    }
  }, 60_000)
})
