/**
 * The executor adapters map Weft's two calls onto each binding's API. expo-sqlite and op-sqlite
 * run only on a device, so their adapters are checked here against better-sqlite3 dressed in
 * their API's shape, and the store runs on each.
 */
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import {
  betterSqlite3Executor,
  expoSqliteExecutor,
  opSqliteExecutor,
  SqliteLocalStore,
  type SqlExecutor,
  type SqlValue,
} from '../src/index.js'

/** better-sqlite3 in the shape of expo-sqlite's `SQLiteDatabase` (BLOBs as Uint8Array). */
const asExpo = (db: Database.Database) => ({
  runAsync: async (sql: string, params: SqlValue[]) => db.prepare(sql).run(...params),
  getAllAsync: async (sql: string, params: SqlValue[]) => db.prepare(sql).all(...params),
})

/** better-sqlite3 in the shape of op-sqlite's `DB` (rows in `rows`, BLOBs as ArrayBuffer). */
const asOpSqlite = (db: Database.Database) => ({
  execute: async (sql: string, params: SqlValue[]) => {
    const statement = db.prepare(sql)
    if (!statement.reader) {
      statement.run(...params)
      return { rows: [] }
    }
    const rows = (statement.all(...params) as Array<Record<string, unknown>>).map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([key, value]) => [
          key,
          value instanceof Uint8Array
            ? value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength)
            : value,
        ]),
      ),
    )
    return { rows }
  },
})

const adapters: Array<[string, (db: Database.Database) => SqlExecutor]> = [
  ['better-sqlite3', (db) => betterSqlite3Executor(db)],
  ['expo-sqlite', (db) => expoSqliteExecutor(asExpo(db))],
  ['op-sqlite', (db) => opSqliteExecutor(asOpSqlite(db))],
]

describe.each(adapters)('the %s adapter', (_name, adapt) => {
  it('runs statements, returns rows and carries BLOBs both ways', async () => {
    const db = new Database(':memory:')
    const sql = adapt(db)
    await sql.run('CREATE TABLE t (k TEXT, n INTEGER, b BLOB)')
    await sql.run('INSERT INTO t VALUES (?, ?, ?)', ['a', 7, Uint8Array.of(1, 2, 3)])
    const rows = await sql.all('SELECT k, n, b FROM t WHERE k = ?', ['a'])
    expect(rows).toHaveLength(1)
    expect(rows[0]?.['k']).toBe('a')
    expect(rows[0]?.['n']).toBe(7)
    expect(new Uint8Array(rows[0]?.['b'] as ArrayBuffer)).toEqual(Uint8Array.of(1, 2, 3))
    db.close()
  })

  it('carries a store: what is written loads back the same', async () => {
    const db = new Database(':memory:')
    const store = await SqliteLocalStore.open({ executor: adapt(db) })
    await store.write('doc', {
      updates: [Uint8Array.of(9, 9)],
      outboxAdd: [{ ref: 2, update: Uint8Array.of(5) }],
    })
    await store.compact('doc', Uint8Array.of(4, 4, 4))
    expect(await store.load('doc')).toEqual({
      snapshot: Uint8Array.of(4, 4, 4),
      updates: [],
      outbox: [{ ref: 2, update: Uint8Array.of(5) }],
      lastRef: 2,
    })
    await store.close()
    await expect(store.load('doc')).rejects.toMatchObject({ code: 'CLOSED' })
    db.close()
  })
})
