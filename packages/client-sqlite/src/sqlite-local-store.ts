/** SqliteLocalStore: a client's documents and outboxes in SQLite, for phones (React Native) and Node. */
import type { LocalChange, LocalDoc, LocalStore, OutboxRecord } from '@weft/client'
import { WeftError } from '@weft/protocol'
import type { SqlExecutor } from './sql-executor.js'

/** Options of {@link SqliteLocalStore.open}. */
export interface SqliteLocalStoreOptions {
  /** The connection (see `betterSqlite3Executor`, `expoSqliteExecutor`, `opSqliteExecutor`). */
  readonly executor: SqlExecutor
  /**
   * Prefix of the store's tables (`<prefix>_docs`, `_updates`, `_outbox`, `_meta`), so that an
   * app's own tables, or two stores, can share a database file. Default `weft`.
   */
  readonly tablePrefix?: string
}

/** The layout of the tables this version writes; a newer one is refused, not misread. */
const LAYOUT_VERSION = 1
const PREFIX = /^[A-Za-z_][A-Za-z0-9_]{0,30}$/

/**
 * A {@link LocalStore} in SQLite. Each change is one transaction (`BEGIN IMMEDIATE` … `COMMIT`):
 * after a crash, all of it is there or none. Operations run one at a time on the connection.
 * Durable across restarts and kills of the process: it asks SQLite for `synchronous = FULL`.
 */
export class SqliteLocalStore implements LocalStore {
  readonly #sql: SqlExecutor
  readonly #tables: { docs: string; updates: string; outbox: string; meta: string }
  #queue: Promise<unknown> = Promise.resolve()
  #closed = false

  private constructor(executor: SqlExecutor, prefix: string) {
    this.#sql = executor
    this.#tables = {
      docs: `${prefix}_docs`,
      updates: `${prefix}_updates`,
      outbox: `${prefix}_outbox`,
      meta: `${prefix}_meta`,
    }
  }

  /**
   * Opens the store on `executor`, creating its tables if needed. Throws `INVALID_ARGUMENT` for a
   * bad option and `LOCAL_STORE_FAILED` when the tables were written by a newer Weft.
   */
  static async open(options: SqliteLocalStoreOptions): Promise<SqliteLocalStore> {
    const { executor, tablePrefix = 'weft' } = options ?? ({} as SqliteLocalStoreOptions)
    if (
      typeof executor !== 'object' ||
      executor === null ||
      typeof executor.run !== 'function' ||
      typeof executor.all !== 'function'
    ) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        'options.executor must have run(sql, params) and all(sql, params): wrap your database ' +
          'with betterSqlite3Executor, expoSqliteExecutor or opSqliteExecutor',
      )
    }
    if (typeof tablePrefix !== 'string' || !PREFIX.test(tablePrefix)) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `options.tablePrefix must be a SQL identifier (letters, digits, _), got ${JSON.stringify(tablePrefix)}`,
      )
    }
    const store = new SqliteLocalStore(executor, tablePrefix)
    await store.#prepare()
    return store
  }

  async #prepare(): Promise<void> {
    const { docs, updates, outbox, meta } = this.#tables
    await this.#exclusive(async (sql) => {
      // Whatever the journal mode, a committed change survives a power cut, not only a crash.
      await sql.run('PRAGMA synchronous = FULL')
      await this.#transaction(async () => {
        await sql.run(
          `CREATE TABLE IF NOT EXISTS ${meta} (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
        )
        await sql.run(
          `CREATE TABLE IF NOT EXISTS ${docs} (doc TEXT PRIMARY KEY, snapshot BLOB, ` +
            'last_ref INTEGER NOT NULL DEFAULT 0, next_seq INTEGER NOT NULL DEFAULT 0)',
        )
        await sql.run(
          `CREATE TABLE IF NOT EXISTS ${updates} (doc TEXT NOT NULL, seq INTEGER NOT NULL, ` +
            'body BLOB NOT NULL, PRIMARY KEY (doc, seq)) WITHOUT ROWID',
        )
        await sql.run(
          `CREATE TABLE IF NOT EXISTS ${outbox} (doc TEXT NOT NULL, ref INTEGER NOT NULL, ` +
            'body BLOB NOT NULL, PRIMARY KEY (doc, ref)) WITHOUT ROWID',
        )
        const rows = await sql.all(`SELECT value FROM ${meta} WHERE key = 'layout'`)
        const found = rows[0] === undefined ? null : Number(rows[0]['value'])
        if (found === null) {
          await sql.run(`INSERT INTO ${meta} (key, value) VALUES ('layout', ?)`, [
            String(LAYOUT_VERSION),
          ])
        } else if (found !== LAYOUT_VERSION) {
          throw new WeftError(
            'LOCAL_STORE_FAILED',
            `the tables ${docs}… have layout ${found}; this Weft reads layout ${LAYOUT_VERSION}: upgrade @weft/client-sqlite`,
          )
        }
      })
    })
  }

  async load(doc: string): Promise<LocalDoc> {
    const { docs, updates, outbox } = this.#tables
    return this.#exclusive((sql) =>
      this.#transaction(async () => {
        const [head] = await sql.all(`SELECT snapshot, last_ref FROM ${docs} WHERE doc = ?`, [doc])
        const stored = await sql.all(`SELECT body FROM ${updates} WHERE doc = ? ORDER BY seq`, [
          doc,
        ])
        const waiting = await sql.all(
          `SELECT ref, body FROM ${outbox} WHERE doc = ? ORDER BY ref`,
          [doc],
        )
        const records: OutboxRecord[] = waiting.map((row) => ({
          ref: Number(row['ref']),
          update: bytes(row['body']),
        }))
        return {
          snapshot: head?.['snapshot'] == null ? null : bytes(head['snapshot']),
          updates: stored.map((row) => bytes(row['body'])),
          outbox: records,
          lastRef: head === undefined ? 0 : Number(head['last_ref']),
        }
      }, 'DEFERRED'),
    )
  }

  async write(doc: string, change: LocalChange): Promise<void> {
    for (const { ref } of change.outboxAdd ?? []) {
      if (!Number.isSafeInteger(ref) || ref < 0) {
        throw new WeftError('INVALID_ARGUMENT', `outbox ref ${ref} is not a non-negative integer`)
      }
    }
    const { docs, updates, outbox } = this.#tables
    await this.#exclusive((sql) =>
      this.#transaction(async () => {
        await sql.run(`INSERT OR IGNORE INTO ${docs} (doc) VALUES (?)`, [doc])
        const added = change.updates ?? []
        if (added.length > 0) {
          const [head] = await sql.all(`SELECT next_seq FROM ${docs} WHERE doc = ?`, [doc])
          let seq = Number(head?.['next_seq'] ?? 0)
          for (const update of added) {
            await sql.run(`INSERT INTO ${updates} (doc, seq, body) VALUES (?, ?, ?)`, [
              doc,
              seq++,
              update,
            ])
          }
          await sql.run(`UPDATE ${docs} SET next_seq = ? WHERE doc = ?`, [seq, doc])
        }
        for (const { ref, update } of change.outboxAdd ?? []) {
          await sql.run(`INSERT OR REPLACE INTO ${outbox} (doc, ref, body) VALUES (?, ?, ?)`, [
            doc,
            ref,
            update,
          ])
          await sql.run(`UPDATE ${docs} SET last_ref = MAX(last_ref, ?) WHERE doc = ?`, [ref, doc])
        }
        for (const ref of change.outboxRemove ?? []) {
          await sql.run(`DELETE FROM ${outbox} WHERE doc = ? AND ref = ?`, [doc, ref])
        }
      }),
    )
  }

  async compact(doc: string, snapshot: Uint8Array): Promise<void> {
    const { docs, updates } = this.#tables
    await this.#exclusive((sql) =>
      this.#transaction(async () => {
        await sql.run(`INSERT OR IGNORE INTO ${docs} (doc) VALUES (?)`, [doc])
        await sql.run(`UPDATE ${docs} SET snapshot = ? WHERE doc = ?`, [snapshot, doc])
        await sql.run(`DELETE FROM ${updates} WHERE doc = ?`, [doc])
      }),
    )
  }

  async clear(doc: string): Promise<void> {
    const { docs, updates, outbox } = this.#tables
    await this.#exclusive((sql) =>
      this.#transaction(async () => {
        for (const table of [updates, outbox, docs]) {
          await sql.run(`DELETE FROM ${table} WHERE doc = ?`, [doc])
        }
      }),
    )
  }

  /** Waits for the operations under way; later calls reject with `CLOSED`. The database stays open. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#queue.catch(() => {})
  }

  /** Runs `work` after every operation before it, alone on the connection. */
  #exclusive<T>(work: (sql: SqlExecutor) => Promise<T>): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new WeftError('CLOSED', 'the SQLite local store is closed'))
    }
    const run = this.#queue.then(
      () => this.#guard(() => work(this.#sql)),
      () => this.#guard(() => work(this.#sql)),
    )
    this.#queue = run.catch(() => {})
    return run
  }

  /**
   * `work` in one transaction: committed whole, or rolled back whole. Writes take the database's
   * write lock at once (`IMMEDIATE`); reads see one consistent state.
   */
  async #transaction<T>(
    work: () => Promise<T>,
    mode: 'IMMEDIATE' | 'DEFERRED' = 'IMMEDIATE',
  ): Promise<T> {
    await this.#sql.run(`BEGIN ${mode}`)
    let result: T
    try {
      result = await work()
    } catch (error) {
      await this.#sql.run('ROLLBACK').catch(() => {})
      throw error
    }
    await this.#sql.run('COMMIT')
    return result
  }

  async #guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation()
    } catch (error) {
      if (error instanceof WeftError) throw error
      throw new WeftError('LOCAL_STORE_FAILED', 'the SQLite local store failed to read or write', {
        cause: error,
      })
    }
  }
}

/** A BLOB as read (a Uint8Array or Node Buffer, or an ArrayBuffer from op-sqlite), copied. */
const bytes = (value: unknown): Uint8Array => {
  if (value instanceof Uint8Array) return new Uint8Array(value)
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0))
  throw new WeftError(
    'LOCAL_STORE_FAILED',
    `the SQLite local store read ${typeof value}, not bytes`,
  )
}
