/** Transactions on a pool, and how PostgreSQL's failures become Weft errors. */
import { WeftError } from '@weft/protocol'
import type pg from 'pg'

/** Isolation of a transaction: writes run READ COMMITTED under row locks; reads see one snapshot. */
export type TxMode = 'write' | 'read'

/**
 * A PostgreSQL failure as a Weft error: `STORAGE_FAILED` (retryable; nothing it was writing was
 * acknowledged). A Weft error passes through.
 */
export const storageError = (what: string, cause: unknown): WeftError =>
  cause instanceof WeftError
    ? cause
    : new WeftError(
        'STORAGE_FAILED',
        `PostgreSQL: ${what} failed (${cause instanceof Error ? cause.message : String(cause)})`,
        { cause },
      )

/**
 * Runs `work` in one transaction on a client of `pool` and commits. Any failure rolls back and
 * rejects with {@link storageError}; a client whose connection failed is discarded, not reused.
 * A failed COMMIT may or may not have committed: it rejects, so nothing is acknowledged that is
 * not durable.
 */
export const inTransaction = async <T>(
  pool: pg.Pool,
  what: string,
  mode: TxMode,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> => {
  let client: pg.PoolClient
  try {
    client = await pool.connect()
  } catch (cause) {
    throw storageError(what, cause)
  }
  let broken: Error | undefined
  // A connection dropped mid-transaction (a server restart) is also emitted as an event; the
  // query in flight rejects with it, and the client is discarded below.
  const dropped = (error: Error): void => {
    broken = error
  }
  client.on('error', dropped)
  try {
    await client.query(
      mode === 'read' ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN',
    )
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (cause) {
    try {
      await client.query('ROLLBACK')
    } catch (rollbackFailed) {
      broken = rollbackFailed instanceof Error ? rollbackFailed : new Error(String(rollbackFailed))
    }
    throw storageError(what, cause)
  } finally {
    client.removeListener('error', dropped)
    client.release(broken)
  }
}
