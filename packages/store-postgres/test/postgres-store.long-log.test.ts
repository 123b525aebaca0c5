/**
 * PostgresStore with data that grows with use: a log far past what fits in a call's arguments,
 * and more documents than one page of a listing — read in pages, never spread.
 */
import type { AppendEntry } from '@weft/server/store'
import { startPostgres, type TestPostgres } from '@weft/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { PostgresStore } from '../src/index.js'
import { freshSchema } from './postgres-fixture.js'

const OLD_ENTRIES = 60_000
const RECENT_RECORDS = 4
const PER_RECENT_RECORD = 10_000
const TOTAL = OLD_ENTRIES + RECENT_RECORDS * PER_RECENT_RECORD
const DOCS = 3_000
const HOUR_MS = 3_600_000

let server: TestPostgres
const updates: Uint8Array[] = []
beforeAll(async () => {
  server = await startPostgres()
  const doc = new Y.Doc()
  doc.clientID = 1
  doc.on('update', (update: Uint8Array) => updates.push(update))
  const map = doc.getMap('m')
  for (let index = 0; index < TOTAL; index++) map.set(`k${index}`, index)
  doc.destroy()
}, 60_000)
afterAll(async () => {
  await server.stop()
})

const entries = (from: number, to: number, receivedAtMs: number): AppendEntry[] =>
  updates.slice(from, to).map((update) => ({
    update,
    meta: { author: 'writer', correlationId: '', receivedAtMs },
  }))

const keysOf = (parts: readonly Uint8Array[]): number => {
  const doc = new Y.Doc({ gc: false })
  Y.transact(doc, () => {
    for (const part of parts) Y.applyUpdate(doc, part)
  })
  return doc.getMap('m').size
}

describe('PostgresStore with a long log', () => {
  it(`lists, compacts and keeps history of ${TOTAL} entries, one record holding ${OLD_ENTRIES}`, async () => {
    const store = await PostgresStore.open({
      url: server.url,
      schema: freshSchema(),
      historyMs: HOUR_MS,
    })
    try {
      const now = Date.now()
      await store.append('doc', entries(0, OLD_ENTRIES, now - 2 * HOUR_MS))
      for (let record = 0; record < RECENT_RECORDS; record++) {
        const from = OLD_ENTRIES + record * PER_RECENT_RECORD
        await store.append('doc', entries(from, from + PER_RECENT_RECORD, now + record))
      }
      const [listed] = await store.list()
      expect(listed).toMatchObject({ name: 'doc', logRecords: RECENT_RECORDS + 1 })
      expect(listed?.lastWriteAtMs).toBe(now + RECENT_RECORDS - 1)

      const loaded = await store.load('doc')
      expect(loaded.updates).toHaveLength(TOTAL)
      const doc = new Y.Doc()
      Y.transact(doc, () => {
        for (const update of loaded.updates) Y.applyUpdate(doc, update)
      })
      await store.compact('doc', Y.encodeStateAsUpdate(doc), loaded.headSeq)

      const after = await store.load('doc')
      expect(after.updates).toHaveLength(0)
      expect(keysOf([after.snapshot as Uint8Array])).toBe(TOTAL)
      const history = await store.history('doc')
      expect(history.records).toHaveLength(RECENT_RECORDS)
      const recent = history.records.flatMap((record) => record.entries.map((e) => e.update))
      expect(keysOf([history.base as Uint8Array, ...recent])).toBe(TOTAL)
      expect(keysOf([history.base as Uint8Array])).toBe(OLD_ENTRIES)
      const [compacted] = await store.list()
      expect(compacted).toMatchObject({ name: 'doc', logRecords: 0 })
    } finally {
      await store.close()
    }
  }, 120_000)

  it(`lists ${DOCS} documents, more than one page`, async () => {
    const store = await PostgresStore.open({ url: server.url, schema: freshSchema() })
    try {
      const names = Array.from({ length: DOCS }, (_, index) => `d${String(index).padStart(5, '0')}`)
      await Promise.all(
        names.map((name, index) => store.append(name, entries(index, index + 1, 1))),
      )
      const listed = await store.list()
      expect(listed.map((doc) => doc.name)).toEqual(names)
      expect(listed.every((doc) => doc.logRecords === 1 && doc.lastWriteAtMs === 1)).toBe(true)
    } finally {
      await store.close()
    }
  }, 60_000)
})
