/**
 * PostgresStore's exclusive locks: a session advisory lock held on a connection of its own (the
 * server releases it when that connection ends, a dead relay's included), and a fencing token
 * kept in the state table that writes of the holder check in their transaction.
 */
import { WeftError } from '@weft/protocol'
import type { HeldLock } from '@weft/server/store'
import pg from 'pg'
import { storageError } from './transaction.js'

/** Advisory lock namespace of exclusive locks (the second key is a hash of schema and name). */
const EXCLUSIVE_LOCK = 0x77656675

/** State rows to write: keys and sealed values to upsert, keys to delete. */
export interface StateRows {
  readonly puts: readonly string[]
  readonly values: readonly Buffer[]
  readonly dels: readonly string[]
}

/** What a lock needs from its store. */
export interface LockContext {
  /** Settings of the store's pool: the lock's connection uses them too. */
  readonly connection: pg.ClientConfig
  /** Quoted schema, and its plain name (part of the lock's key). */
  readonly schema: string
  readonly schemaName: string
  /** Seals a state record's value (as `writeState` does), and opens one. */
  readonly stateRows: (records: ReadonlyArray<{ key: string; value: unknown }>) => StateRows
  readonly readValue: (key: string, value: Buffer) => unknown
  /** Runs `work` in a write transaction of the store (in order with its other writes). */
  readonly write: (work: (client: pg.PoolClient) => Promise<void>) => Promise<void>
  /** How often the holder checks its connection still answers (ms). */
  readonly checkIntervalMs: number
}

/** The state key of lock `name`'s fencing token. */
export const tokenKey = (name: string): string => `lock/${name}/token`

/** Upserts and deletes `rows` in `client`'s transaction. */
export const writeStateRows = async (
  client: pg.ClientBase,
  schema: string,
  rows: StateRows,
): Promise<void> => {
  if (rows.dels.length > 0)
    await client.query(`DELETE FROM ${schema}.state WHERE key = ANY($1::text[])`, [rows.dels])
  if (rows.puts.length > 0)
    await client.query(
      `INSERT INTO ${schema}.state (key, value) SELECT * FROM unnest($1::text[], $2::bytea[])
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      [rows.puts, rows.values],
    )
}

/**
 * The exclusive locks one store holds, for its `close` to release: a closed store's lock would
 * otherwise stay held, its connection open, until the process exits.
 */
export class StoreLocks {
  readonly #held = new Set<HeldLock>()
  readonly #taking = new Set<Promise<unknown>>()
  #closed = false

  /**
   * Takes a lock with `take` and keeps it until it is released or lost. A lock taken once
   * {@link releaseAll} began is released at once and `CLOSED` thrown.
   */
  async take(take: () => Promise<HeldLock | null>): Promise<HeldLock | null> {
    const taking = this.#keep(take)
    this.#taking.add(taking)
    try {
      return await taking
    } finally {
      this.#taking.delete(taking)
    }
  }

  /** Waits for the locks being taken, then releases every lock held (ending its connection). */
  async releaseAll(): Promise<void> {
    this.#closed = true
    await Promise.allSettled([...this.#taking])
    await Promise.all([...this.#held].map((lock) => lock.release()))
    this.#held.clear()
  }

  async #keep(take: () => Promise<HeldLock | null>): Promise<HeldLock | null> {
    const lock = await take()
    if (lock === null) return null
    if (this.#closed) {
      await lock.release()
      throw new WeftError('CLOSED', 'the PostgreSQL store closed while a lock was being taken')
    }
    this.#held.add(lock)
    void lock.lost.then(() => this.#held.delete(lock))
    return lock
  }
}

/** Takes lock `name` if no other session holds it; null when one does. */
export const tryExclusiveLock = async (
  context: LockContext,
  name: string,
): Promise<HeldLock | null> => {
  const client = new pg.Client(context.connection)
  let lose = (): void => {}
  const lost = new Promise<void>((resolve) => {
    lose = resolve
  })
  client.on('error', () => lose())
  client.on('end', () => lose())
  try {
    await client.connect()
    const { rows } = await client.query<{ held: boolean }>(
      'SELECT pg_try_advisory_lock($1, hashtext($2)) AS held',
      [EXCLUSIVE_LOCK, `${context.schemaName}/${name}`],
    )
    if (rows[0]?.held !== true) {
      await client.end()
      return null
    }
  } catch (cause) {
    await client.end().catch(() => {})
    throw storageError(`taking lock ${name}`, cause)
  }
  let token: number
  try {
    token = await nextToken(client, context, name)
  } catch (cause) {
    await client.end().catch(() => {})
    throw storageError(`taking lock ${name}`, cause)
  }
  const check = setInterval(() => {
    // A connection that stopped answering may have lost its lock already: give it up.
    const timer = setTimeout(() => void client.end().catch(() => {}), context.checkIntervalMs)
    client.query('SELECT 1').then(
      () => clearTimeout(timer),
      () => {
        clearTimeout(timer)
        void client.end().catch(() => {})
      },
    )
  }, context.checkIntervalMs)
  check.unref()
  void lost.then(() => clearInterval(check))
  return {
    token,
    lost,
    writeState: (records) => fencedWrite(context, name, token, records),
    release: async () => {
      clearInterval(check)
      await client.end().catch(() => {})
      lose()
    },
  }
}

/** Moves the lock's fencing token on by one, under the lock; resolves with the new one. */
const nextToken = async (
  client: pg.Client,
  context: LockContext,
  name: string,
): Promise<number> => {
  const key = tokenKey(name)
  await client.query('BEGIN')
  try {
    const { rows } = await client.query<{ value: Buffer }>(
      `SELECT value FROM ${context.schema}.state WHERE key = $1 FOR UPDATE`,
      [key],
    )
    const previous = rows[0] === undefined ? 0 : Number(context.readValue(key, rows[0].value))
    const token = (Number.isSafeInteger(previous) ? previous : 0) + 1
    await writeStateRows(client, context.schema, context.stateRows([{ key, value: token }]))
    await client.query('COMMIT')
    return token
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
}

/**
 * Writes `records` if `token` is still the lock's newest. The token row is read FOR SHARE, so a
 * new holder's increment waits for this transaction, and this one sees a committed increment.
 */
const fencedWrite = async (
  context: LockContext,
  name: string,
  token: number,
  records: ReadonlyArray<{ key: string; value: unknown }>,
): Promise<boolean> => {
  const key = tokenKey(name)
  const rows = context.stateRows(records)
  let current = false
  await context.write(async (client) => {
    const found = await client.query<{ value: Buffer }>(
      `SELECT value FROM ${context.schema}.state WHERE key = $1 FOR SHARE`,
      [key],
    )
    const row = found.rows[0]
    current = row !== undefined && context.readValue(key, row.value) === token
    if (current) await writeStateRows(client, context.schema, rows)
  })
  return current
}
