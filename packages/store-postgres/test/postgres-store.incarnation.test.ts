/**
 * Document incarnations: a relay's append that requires the life of the document it loaded
 * writes nothing once another relay deleted it (or deleted and created it again), while the
 * appends sharing its transaction commit — against a real PostgreSQL.
 */
import type { AppendEntry } from '@weft/server/store'
import { startPostgres, type TestPostgres } from '@weft/testkit'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { PostgresStore } from '../src/index.js'
import { MIGRATIONS, quoteSchema } from '../src/schema.js'
import { freshSchema } from './postgres-fixture.js'

let server: TestPostgres
beforeAll(async () => {
  server = await startPostgres()
}, 60_000)
afterAll(async () => {
  await server.stop()
})

const meta = { author: 'tester', correlationId: '', receivedAtMs: 1_700_000_000_000 }

const entry = (clientID: number, key: string): AppendEntry => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  doc.getMap('m').set(key, clientID)
  return { update: Y.encodeStateAsUpdate(doc), meta }
}

const keysOf = async (store: PostgresStore, name: string): Promise<string[]> => {
  const stored = await store.load(name)
  const doc = new Y.Doc()
  if (stored.snapshot !== null) Y.applyUpdate(doc, stored.snapshot)
  for (const update of stored.updates) Y.applyUpdate(doc, update)
  return [...doc.getMap('m').keys()].sort()
}

/** Two stores on one schema, as two relays sharing a database; both closed afterwards. */
const twoRelays = async (): Promise<[PostgresStore, PostgresStore]> => {
  const schema = freshSchema()
  const a = await PostgresStore.open({ url: server.url, schema })
  const b = await PostgresStore.open({ url: server.url, schema })
  return [a, b]
}

describe('PostgresStore document incarnations', () => {
  it('gives a document one incarnation for its life and a new one after a deletion', async () => {
    const [a, b] = await twoRelays()
    try {
      expect((await a.load('doc')).incarnation).toBeUndefined()
      await a.append('doc', [entry(1, 'one')])
      const first = (await b.load('doc')).incarnation
      expect(first).toMatch(/^\d+$/)
      await b.append('doc', [entry(2, 'two')], [], { incarnation: first! })
      await a.compact('doc', Y.mergeUpdates([entry(1, 'one').update, entry(2, 'two').update]), 2)
      expect((await a.load('doc')).incarnation).toBe(first)

      await a.delete('doc')
      expect((await b.load('doc')).incarnation).toBeUndefined()
      await a.append('doc', [entry(3, 'three')])
      const second = (await b.load('doc')).incarnation
      expect(second).toMatch(/^\d+$/)
      expect(second).not.toBe(first)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it('refuses an append for a deleted document with DOC_DELETED and writes nothing', async () => {
    const [a, b] = await twoRelays()
    try {
      await a.append('doc', [entry(1, 'before')])
      const loaded = await b.load('doc')
      await a.delete('doc')
      await expect(
        b.append('doc', [entry(2, 'orphan')], [], { incarnation: loaded.incarnation! }),
      ).rejects.toMatchObject({ code: 'DOC_DELETED' })
      const after = await a.load('doc')
      expect(after).toMatchObject({ headSeq: 0, snapshot: null, updates: [] })
      expect(after.incarnation).toBeUndefined()
      expect((await a.list()).map((doc) => doc.name)).toEqual([])
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it('refuses it for a document deleted and created again, which keeps only its new life', async () => {
    const [a, b] = await twoRelays()
    try {
      await a.append('doc', [entry(1, 'old')])
      const loaded = await b.load('doc')
      await a.delete('doc')
      await a.append('doc', [entry(3, 'new')])
      await expect(
        b.append('doc', [entry(2, 'stale')], [], { incarnation: loaded.incarnation! }),
      ).rejects.toMatchObject({ code: 'DOC_DELETED' })
      expect(await keysOf(a, 'doc')).toEqual(['new'])
      expect((await a.load('doc')).headSeq).toBe(1)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it('commits the other appends of the same transaction', async () => {
    const [a, b] = await twoRelays()
    try {
      await a.append('gone', [entry(1, 'x')])
      await a.append('kept', [entry(1, 'x')])
      const gone = (await b.load('gone')).incarnation!
      const kept = (await b.load('kept')).incarnation!
      await a.delete('gone')
      const groupsBefore = b.commitGroups
      // Submitted in one turn: one group, one transaction.
      const results = await Promise.allSettled([
        b.append('kept', [entry(2, 'y')], [], { incarnation: kept }),
        b.append('gone', [entry(2, 'y')], [], { incarnation: gone }),
        b.append('other', [entry(2, 'y')]),
      ])
      expect(b.commitGroups - groupsBefore).toBe(1)
      expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
      expect(await keysOf(a, 'kept')).toEqual(['x', 'y'])
      expect(await keysOf(a, 'other')).toEqual(['y'])
      expect((await a.load('gone')).headSeq).toBe(0)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it('a version 1 schema migrates to 2: its documents get incarnations and keep their logs', async () => {
    const schema = freshSchema()
    const s = quoteSchema(schema)
    const client = new pg.Client({ connectionString: server.url })
    await client.connect()
    try {
      await client.query(`CREATE SCHEMA ${s}`)
      await client.query(`CREATE TABLE ${s}.weft_schema_version (
        version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`)
      for (const statement of MIGRATIONS[0]!.statements(s)) await client.query(statement)
      await client.query(`INSERT INTO ${s}.weft_schema_version (version) VALUES (1)`)
      await client.query(`INSERT INTO ${s}.docs (name, head_seq) VALUES ('old', 0)`)
    } finally {
      await client.end()
    }
    const store = await PostgresStore.open({ url: server.url, schema })
    try {
      const loaded = await store.load('old')
      expect(loaded.incarnation).toMatch(/^\d+$/)
      await store.append('old', [entry(1, 'after')], [], { incarnation: loaded.incarnation! })
      expect(await keysOf(store, 'old')).toEqual(['after'])
    } finally {
      await store.close()
    }
  })
})
