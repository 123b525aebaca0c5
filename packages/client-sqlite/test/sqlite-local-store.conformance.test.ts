/** SqliteLocalStore on better-sqlite3 under the LocalStore conformance suite, on a file and in memory. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LocalStore } from '@weft/client'
import { runLocalStoreSuite, type LocalStoreFixture } from '@weft/client/conformance'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { betterSqlite3Executor, SqliteLocalStore } from '../src/index.js'

/** A store on a fresh database file; `reopen` opens a new connection on the same file. */
const fileFixture = async (tablePrefix?: string): Promise<LocalStoreFixture> => {
  const dir = await mkdtemp(join(tmpdir(), 'weft-sqlite-'))
  const databases: Database.Database[] = []
  const openOne = async (): Promise<LocalStore> => {
    const db = new Database(join(dir, 'local.db'))
    databases.push(db)
    return SqliteLocalStore.open({
      executor: betterSqlite3Executor(db),
      ...(tablePrefix === undefined ? {} : { tablePrefix }),
    })
  }
  return {
    store: await openOne(),
    reopen: openOne,
    cleanup: async () => {
      for (const db of databases) db.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

runLocalStoreSuite('SqliteLocalStore (better-sqlite3, file)', () => fileFixture(), {
  durable: true,
})

runLocalStoreSuite(
  'SqliteLocalStore (better-sqlite3, in memory, own table prefix)',
  async () => {
    const db = new Database(':memory:')
    const store = await SqliteLocalStore.open({
      executor: betterSqlite3Executor(db),
      tablePrefix: 'app_sync',
    })
    return {
      store,
      cleanup: async () => {
        db.close()
      },
    }
  },
  { durable: false },
)

describe('SqliteLocalStore', () => {
  it('keeps two stores with different table prefixes in one database apart', async () => {
    const db = new Database(':memory:')
    const one = await SqliteLocalStore.open({ executor: betterSqlite3Executor(db) })
    const two = await SqliteLocalStore.open({
      executor: betterSqlite3Executor(db),
      tablePrefix: 'other',
    })
    await one.write('doc', { outboxAdd: [{ ref: 3, update: Uint8Array.of(1, 2) }] })
    expect((await one.load('doc')).lastRef).toBe(3)
    expect(await two.load('doc')).toEqual({ snapshot: null, updates: [], outbox: [], lastRef: 0 })
    db.close()
  })

  it('refuses a bad executor or prefix, and tables of a newer layout', async () => {
    await expect(SqliteLocalStore.open({ executor: {} as never })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/betterSqlite3Executor/),
    })
    const db = new Database(':memory:')
    const executor = betterSqlite3Executor(db)
    await expect(
      SqliteLocalStore.open({ executor, tablePrefix: 'x; DROP TABLE y' }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await SqliteLocalStore.open({ executor })
    db.prepare("UPDATE weft_meta SET value = '2' WHERE key = 'layout'").run()
    await expect(SqliteLocalStore.open({ executor })).rejects.toMatchObject({
      code: 'LOCAL_STORE_FAILED',
      message: expect.stringMatching(/layout 2/),
    })
    db.close()
  })

  it('rolls a failed change back whole', async () => {
    const db = new Database(':memory:')
    const store = await SqliteLocalStore.open({ executor: betterSqlite3Executor(db) })
    await store.write('doc', { updates: [Uint8Array.of(1)] })
    // A second record under ref 1 with a body SQLite refuses (NOT NULL): nothing of it stays.
    const broken = { ref: 1, update: null as unknown as Uint8Array }
    await expect(
      store.write('doc', { updates: [Uint8Array.of(2)], outboxAdd: [broken] }),
    ).rejects.toMatchObject({ code: 'LOCAL_STORE_FAILED' })
    const loaded = await store.load('doc')
    expect(loaded.updates).toEqual([Uint8Array.of(1)])
    expect(loaded.outbox).toEqual([])
    expect(loaded.lastRef).toBe(0)
    db.close()
  })
})
