/**
 * PostgresStore as several relays share it: group commit, concurrent appends and compactions on
 * one document from several stores, concurrent migrations — against a real PostgreSQL.
 */
import type { AppendEntry } from '@weft/server/store'
import { chooseSeed, mulberry32, startPostgres, type TestPostgres } from '@weft/testkit'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { COMPACTION_LOCK } from '../src/compaction.js'
import { PostgresStore } from '../src/index.js'
import { freshSchema } from './postgres-fixture.js'

let server: TestPostgres
beforeAll(async () => {
  server = await startPostgres()
}, 60_000)
afterAll(async () => {
  await server.stop()
})

const meta = { author: 'tester', correlationId: '', receivedAtMs: 1_700_000_000_000 }

/** An update inserting `text` into the map `m` under `key`, from a fresh client. */
const update = (clientID: number, key: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  doc.getMap('m').set(key, clientID)
  return Y.encodeStateAsUpdate(doc)
}
const entry = (bytes: Uint8Array): AppendEntry => ({ update: bytes, meta })

const keysOf = (snapshot: Uint8Array | null, updates: readonly Uint8Array[]): string[] => {
  const doc = new Y.Doc()
  if (snapshot !== null) Y.applyUpdate(doc, snapshot)
  for (const each of updates) Y.applyUpdate(doc, each)
  return [...doc.getMap('m').keys()].sort()
}

const openStores = async (count: number, schema = freshSchema()): Promise<PostgresStore[]> =>
  Promise.all(Array.from({ length: count }, () => PostgresStore.open({ url: server.url, schema })))

const query = async <T extends pg.QueryResultRow>(sql: string, url = server.url): Promise<T[]> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<T>(sql)).rows
  } finally {
    await client.end()
  }
}

describe('PostgresStore shared by several relays', () => {
  it('compacts a document on one relay at a time: another skips while the lock is held', async () => {
    const schema = freshSchema()
    const [store] = await openStores(1, schema)
    const holder = new pg.Client({ connectionString: server.url })
    await holder.connect()
    try {
      for (let index = 1; index <= 3; index += 1) {
        await store!.append('doc', [entry(update(index, `k${index}`))])
      }
      const snapshot = Y.encodeStateAsUpdate(new Y.Doc())
      const before = await store!.load('doc')
      // Another relay's compaction of the document holds its lock in its transaction.
      await holder.query('BEGIN')
      await holder.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
        COMPACTION_LOCK,
        `"${schema}".doc`,
      ])
      const startedAt = performance.now()
      await store!.compact('doc', snapshot, 3)
      expect(performance.now() - startedAt).toBeLessThan(1_000)
      expect(store!.staleCompactions).toBe(1)
      const during = await store!.load('doc')
      expect(during.updates).toHaveLength(before.updates.length)
      // Another document is not held up.
      await store!.append('other', [entry(update(9, 'k9'))])
      await store!.compact('other', Y.encodeStateAsUpdate(new Y.Doc()), 1)
      expect(store!.staleCompactions).toBe(1)
      await holder.query('COMMIT')
      await store!.compact('doc', snapshot, 3)
      expect(store!.staleCompactions).toBe(1)
      expect((await store!.load('doc')).updates).toHaveLength(0)
    } finally {
      await holder.end()
      await store!.close()
    }
  })

  it('commits 300 concurrent appends to 30 documents in a few transactions', async () => {
    const schema = freshSchema()
    const [store] = await openStores(1, schema)
    try {
      const before = store!.commitGroups
      const seqs = await Promise.all(
        Array.from({ length: 300 }, (_, index) =>
          store!.append(`doc-${index % 30}`, [entry(update(index + 1, `k${index}`))]),
        ),
      )
      expect(seqs.filter((seq) => seq === 1)).toHaveLength(30)
      const groups = store!.commitGroups - before
      expect(groups).toBeLessThanOrEqual(3)
      // Each row's xmin is the transaction that inserted it: count them in the database itself.
      const [row] = await query<{ transactions: string; records: string }>(
        `SELECT count(DISTINCT xmin::text) AS transactions, count(*) AS records FROM "${schema}".records`,
      )
      expect(Number(row?.records)).toBe(300)
      expect(Number(row?.transactions)).toBe(groups)
    } finally {
      await store!.close()
    }
  })

  it('two stores appending to one document keep distinct, gap-free sequences and lose nothing', async () => {
    const stores = await openStores(2)
    try {
      const perStore = 150
      const results = await Promise.all(
        stores.flatMap((store, which) =>
          Array.from({ length: perStore }, (_, index) =>
            store.append('shared', [entry(update(which * 1000 + index + 1, `s${which}-${index}`))]),
          ),
        ),
      )
      expect([...results].sort((a, b) => a - b)).toEqual(
        Array.from({ length: 2 * perStore }, (_, index) => index + 1),
      )
      // Within one store, later calls got later sequence numbers.
      for (let which = 0; which < 2; which++) {
        const mine = results.slice(which * perStore, (which + 1) * perStore)
        expect(mine).toEqual([...mine].sort((a, b) => a - b))
      }
      const loaded = await stores[1]!.load('shared')
      expect(loaded.headSeq).toBe(2 * perStore)
      expect(keysOf(loaded.snapshot, loaded.updates)).toHaveLength(2 * perStore)
    } finally {
      for (const store of stores) await store.close()
    }
  })

  it('two stores compacting one document while a third appends never lose an update (seeded)', async () => {
    const seed = chooseSeed('postgres compaction race')
    const random = mulberry32(seed)
    const [writer, compactorA, compactorB] = await openStores(3)
    const written: string[] = []
    try {
      let writing = true
      const appends = (async () => {
        for (let index = 0; index < 200; index++) {
          const key = `w${index}`
          await writer!.append('raced', [entry(update(index + 1, key))])
          written.push(key)
        }
        writing = false
      })()
      const compacting = [compactorA!, compactorB!].map(async (store) => {
        while (writing) {
          const loaded = await store.load('raced')
          const doc = new Y.Doc()
          if (loaded.snapshot !== null) Y.applyUpdate(doc, loaded.snapshot)
          for (const each of loaded.updates) Y.applyUpdate(doc, each)
          // Sometimes wait, so the other store's compaction gets ahead and this one is stale.
          if (random() < 0.5) await new Promise((resolve) => setImmediate(resolve))
          await store.compact('raced', Y.encodeStateAsUpdate(doc), loaded.headSeq)
        }
      })
      await Promise.all([appends, ...compacting])
      const loaded = await writer!.load('raced')
      expect(loaded.headSeq).toBe(200)
      expect(keysOf(loaded.snapshot, loaded.updates)).toEqual([...written].sort())
      const stale = compactorA!.staleCompactions + compactorB!.staleCompactions
      console.log(`compaction race seed=${seed}: ${stale} stale compactions refused`)
    } finally {
      for (const store of [writer, compactorA, compactorB]) await store?.close()
    }
  })

  it('migrates once when eight stores open a fresh database at once', async () => {
    const url = await server.createDatabase()
    const stores = await Promise.all(
      Array.from({ length: 8 }, () => PostgresStore.open({ url, schema: 'weft' })),
    )
    try {
      const rows = await query<{ version: number }>(
        'SELECT version FROM weft.weft_schema_version',
        url,
      )
      expect(rows.map((row) => row.version)).toEqual([1, 2])
      await stores[0]!.append('doc', [entry(update(1, 'a'))])
      expect((await stores[7]!.load('doc')).headSeq).toBe(1)
    } finally {
      for (const store of stores) await store.close()
    }
  })

  it('refuses a schema written by a newer version', async () => {
    const schema = freshSchema()
    const [store] = await openStores(1, schema)
    await store!.close()
    await query(`INSERT INTO "${schema}".weft_schema_version (version) VALUES (99)`)
    await expect(PostgresStore.open({ url: server.url, schema })).rejects.toMatchObject({
      code: 'STORAGE_FAILED',
      message: expect.stringContaining('version 99'),
    })
  })
})
