/**
 * PostgresImport: writes documents, the change feed and state records into a PostgresStore's
 * schema exactly as another store held them (sequence numbers, compaction point, feed positions),
 * for moving a relay's data into PostgreSQL while no relay uses the schema.
 */
import { WeftError } from '@weft/protocol'
import {
  encodeLogRecord,
  newestReceivedAtMs,
  resolveKeyring,
  sealValue,
  stateJson,
  type DocImage,
  type EncryptionOptions,
  type FeedEntry,
  type FeedSeqImage,
  type HistoryRecord,
  type Keyring,
  type StateRecord,
} from '@weft/server/store'
import pg from 'pg'
import {
  feedAddress,
  histBaseAddress,
  recordAddress,
  snapshotAddress,
  stateAddress,
} from './addresses.js'
import { checkEncryptionMarker } from './encryption-marker.js'
import { migrate, quoteSchema } from './schema.js'
import { inTransaction, storageError } from './transaction.js'

/** Options of {@link PostgresImport.open}. */
export interface PostgresImportOptions {
  /** `postgres://` connection string. */
  url: string
  /** The store's schema (created and migrated if missing). Default `weft`. */
  schema?: string
  /** The keys the relay will open the store with; values are sealed under the last. */
  encryption?: EncryptionOptions
  /** Records written per INSERT. Default 500. */
  batchRecords?: number
}

/** Where a document stands in the target, to tell a copy already made from different data. */
export interface ImportedHead {
  readonly headSeq: number
  readonly compactedThrough: number
}

const textEncoder = new TextEncoder()
const toBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/** The writer of an import; see the module header. Each method is one transaction. */
export class PostgresImport {
  readonly #pool: pg.Pool
  readonly #schema: string
  readonly #keyring: Keyring | null
  readonly #batchRecords: number

  /** Connects and migrates the schema, as `PostgresStore.open` does. */
  static async open(options: PostgresImportOptions): Promise<PostgresImport> {
    const schema = quoteSchema(options.schema ?? 'weft')
    const batchRecords = options.batchRecords ?? 500
    if (!Number.isSafeInteger(batchRecords) || batchRecords < 1) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `PostgresImport.open: options.batchRecords must be a positive integer, got ${String(batchRecords)}`,
      )
    }
    const keyring =
      options.encryption === undefined
        ? null
        : resolveKeyring(options.encryption, 'PostgresImport.open')
    const pool = new pg.Pool({ connectionString: options.url, max: 2 })
    pool.on('error', () => undefined)
    try {
      const client = await pool.connect()
      try {
        await migrate(client, options.schema ?? 'weft')
        await checkEncryptionMarker(client, schema, keyring)
      } finally {
        client.release()
      }
    } catch (error) {
      await pool.end()
      throw storageError('opening the store for an import', error)
    }
    return new PostgresImport(pool, schema, keyring, batchRecords)
  }

  private constructor(pool: pg.Pool, schema: string, keyring: Keyring | null, batch: number) {
    this.#pool = pool
    this.#schema = schema
    this.#keyring = keyring
    this.#batchRecords = batch
  }

  /** Whether the schema holds no document, feed entry, feed sequence or state record. */
  async isEmpty(): Promise<boolean> {
    const s = this.#schema
    const { rows } = await this.#pool.query<{ any: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM ${s}.docs) OR EXISTS (SELECT 1 FROM ${s}.feed)
         OR EXISTS (SELECT 1 FROM ${s}.feed_seqs) OR EXISTS (SELECT 1 FROM ${s}.state)
         OR (SELECT head > 0 FROM ${s}.feed_meta WHERE id = 1) AS any`,
    )
    return rows[0]?.any !== true
  }

  /** Where each document of the target stands, `limit` names after `after`, by name. */
  async heads(after: string, limit: number): Promise<Array<ImportedHead & { name: string }>> {
    const { rows } = await this.#pool.query<{
      name: string
      head_seq: string
      compacted_through: string
    }>(
      `SELECT name, head_seq, compacted_through FROM ${this.#schema}.docs
       WHERE name > $1 ORDER BY name LIMIT $2`,
      [after, limit],
    )
    return rows.map((row) => ({
      name: row.name,
      headSeq: Number(row.head_seq),
      compactedThrough: Number(row.compacted_through),
    }))
  }

  /** Where one document of the target stands, or null without it. */
  async head(name: string): Promise<ImportedHead | null> {
    const { rows } = await this.#pool.query<{ head_seq: string; compacted_through: string }>(
      `SELECT head_seq, compacted_through FROM ${this.#schema}.docs WHERE name = $1`,
      [name],
    )
    const row = rows[0]
    if (row === undefined) return null
    return { headSeq: Number(row.head_seq), compactedThrough: Number(row.compacted_through) }
  }

  /** The target's feed head and the number of documents it holds. */
  async totals(): Promise<{ docs: number; feedHead: number }> {
    const s = this.#schema
    const { rows } = await this.#pool.query<{ docs: string; head: string }>(
      `SELECT (SELECT count(*) FROM ${s}.docs) AS docs,
              (SELECT head FROM ${s}.feed_meta WHERE id = 1) AS head`,
    )
    return { docs: Number(rows[0]?.docs ?? 0), feedHead: Number(rows[0]?.head ?? 0) }
  }

  /** Removes everything the schema holds (documents, feed, state), in one transaction. */
  async clear(): Promise<void> {
    const s = this.#schema
    await inTransaction(this.#pool, 'clearing the target', 'write', async (client) => {
      await client.query(`TRUNCATE ${s}.docs, ${s}.records, ${s}.feed, ${s}.feed_seqs, ${s}.state`)
      await client.query(`UPDATE ${s}.feed_meta SET head = 0, pruned_through = 0 WHERE id = 1`)
    })
  }

  /**
   * Replaces document `image.name` whole — its row and every record — in one transaction: the
   * records are read from `records` (oldest first) and written `batchRecords` at a time. Resolves
   * with the number of records written.
   */
  async importDoc(image: DocImage, records: AsyncIterable<HistoryRecord>): Promise<number> {
    const s = this.#schema
    const name = image.name
    return inTransaction(this.#pool, `importing document "${name}"`, 'write', async (client) => {
      await client.query(`DELETE FROM ${s}.records WHERE doc = $1`, [name])
      await client.query(`DELETE FROM ${s}.docs WHERE name = $1`, [name])
      await client.query(
        `INSERT INTO ${s}.docs (name, head_seq, compacted_through, compacted_at_ms, snapshot, hist_base)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          name,
          image.headSeq,
          image.compactedThrough,
          image.compactedAtMs,
          image.snapshot === null
            ? null
            : toBuffer(this.#seal(snapshotAddress(name), image.snapshot)),
          image.historyBase === null
            ? null
            : toBuffer(this.#seal(histBaseAddress(name), image.historyBase)),
        ],
      )
      let written = 0
      let batch: HistoryRecord[] = []
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return
        await client.query(
          `INSERT INTO ${s}.records (doc, seq, received_at_ms, record)
           SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::bytea[])`,
          [
            name,
            batch.map((record) => record.seq),
            batch.map((record) => Math.max(0, Math.floor(newestReceivedAtMs(record.entries)))),
            batch.map((record) =>
              toBuffer(
                this.#seal(recordAddress(name, record.seq), encodeLogRecord(record.entries)),
              ),
            ),
          ],
        )
        written += batch.length
        batch = []
      }
      for await (const record of records) {
        batch.push(record)
        if (batch.length >= this.#batchRecords) await flush()
      }
      await flush()
      return written
    })
  }

  /** Writes feed entries at their own positions (replacing what is there), in one transaction. */
  async importFeed(entries: readonly FeedEntry[]): Promise<void> {
    if (entries.length === 0) return
    await inTransaction(this.#pool, 'importing feed entries', 'write', async (client) => {
      await client.query(
        `INSERT INTO ${this.#schema}.feed (position, received_at_ms, entry)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[])
         ON CONFLICT (position) DO UPDATE
           SET received_at_ms = excluded.received_at_ms, entry = excluded.entry`,
        [
          entries.map((entry) => entry.position),
          entries.map((entry) => Math.floor(entry.receivedAtMs)),
          entries.map((entry) =>
            toBuffer(
              this.#seal(feedAddress(entry.position), textEncoder.encode(JSON.stringify(entry))),
            ),
          ),
        ],
      )
    })
  }

  /** Sets documents' feed sequences (replacing what is there), in one transaction. */
  async importFeedSeqs(seqs: readonly FeedSeqImage[]): Promise<void> {
    if (seqs.length === 0) return
    await this.#pool
      .query(
        `INSERT INTO ${this.#schema}.feed_seqs (doc, seq)
         SELECT * FROM unnest($1::text[], $2::bigint[])
         ON CONFLICT (doc) DO UPDATE SET seq = excluded.seq`,
        [seqs.map((each) => each.doc), seqs.map((each) => each.seq)],
      )
      .catch((cause: unknown) => {
        throw storageError('importing feed sequences', cause)
      })
  }

  /** Sets the feed's head and pruned position. */
  async importFeedMeta(head: number, prunedThrough: number): Promise<void> {
    await this.#pool
      .query(`UPDATE ${this.#schema}.feed_meta SET head = $1, pruned_through = $2 WHERE id = 1`, [
        head,
        prunedThrough,
      ])
      .catch((cause: unknown) => {
        throw storageError('importing the feed head', cause)
      })
  }

  /** Writes state records (replacing those with the same keys), in one transaction. */
  async importState(records: readonly StateRecord[]): Promise<void> {
    if (records.length === 0) return
    const values = records.map(({ key, value }) => {
      const json = stateJson(key, value) ?? 'null'
      return toBuffer(this.#seal(stateAddress(key), textEncoder.encode(json)))
    })
    await this.#pool
      .query(
        `INSERT INTO ${this.#schema}.state (key, value)
         SELECT * FROM unnest($1::text[], $2::bytea[])
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [records.map((record) => record.key), values],
      )
      .catch((cause: unknown) => {
        throw storageError('importing state records', cause)
      })
  }

  /** Every state key of the target (few: webhook cursors and dead letters). */
  async stateKeys(): Promise<string[]> {
    const { rows } = await this.#pool.query<{ key: string }>(
      `SELECT key FROM ${this.#schema}.state ORDER BY key`,
    )
    return rows.map((row) => row.key)
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    await this.#pool.end()
  }

  #seal(address: string, plaintext: Uint8Array): Uint8Array {
    return this.#keyring === null ? plaintext : sealValue(this.#keyring, address, plaintext)
  }
}
