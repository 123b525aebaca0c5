/**
 * PostgresStore: the DocStore on PostgreSQL, shared by every relay of a deployment — group
 * commit, per-document sequences and change-feed positions in the transaction that stores the
 * change, race-safe compaction, optional encryption at rest.
 */
import { WeftError } from '@weft/protocol'
import {
  openValue,
  resolveKeyring,
  sealValue,
  stateJson,
  type AppendEntry,
  type AppendOptions,
  type DocHistory,
  type DocStore,
  type DocSummary,
  type EncryptionOptions,
  type ExclusiveLocks,
  type FeedChange,
  type FeedPage,
  type HeldLock,
  type HistoryRecord,
  type Keyring,
  type LogHeads,
  type LogTail,
  type ReencryptOptions,
  type ReencryptResult,
  type StateRecord,
  type StoredDoc,
} from '@weft/server/store'
import pg from 'pg'
import {
  describeAddress,
  histBaseAddress,
  recordAddress,
  snapshotAddress,
  stateAddress,
} from './addresses.js'
import { writeAppendGroup, type AppendJob } from './append-group.js'
import { compactDoc } from './compaction.js'
import { StoreLocks, tryExclusiveLock, writeStateRows, type StateRows } from './exclusive-lock.js'
import { pruneFeedRows, readFeedPage, writeFeed } from './feed.js'
import { GroupCommit } from './group-commit.js'
import { inTransaction, storageError, type TxMode } from './transaction.js'
import { decodeLogRecord } from '@weft/server/store'
import { listDocs } from './doc-listing.js'
import { checkEncryptionMarker } from './encryption-marker.js'
import { reencryptRows } from './reencrypt.js'
import { migrate, quoteSchema } from './schema.js'

/** Options of {@link PostgresStore.open}. */
export interface PostgresStoreOptions {
  /** `postgres://` connection string; the store opens (and closes) its own pool. */
  url?: string
  /** A pool to use instead of `url` (the caller keeps it: `close` does not end it). */
  pool?: pg.Pool
  /** PostgreSQL schema holding the store's tables, created if missing. Default `weft`. */
  schema?: string
  /** Connections of the store's own pool (with `url`). Default 10. */
  maxConnections?: number
  /** How long (ms) to wait for a connection before a call fails. Default 5,000. */
  connectTimeoutMs?: number
  /**
   * Keep log records this long (ms) after compaction folded them (`history`), and keep a change
   * feed as long. Default 0: compaction deletes what it folds and no feed is kept.
   */
  historyMs?: number
  /**
   * Encrypt every value (snapshots, log records, feed entries, state records) with AES-256-GCM,
   * as LevelStore does. The last key encrypts, every key decrypts. Once a schema was opened with
   * keys, opening it without them is refused. Default: no encryption.
   */
  encryption?: EncryptionOptions
  /** Most appends one transaction commits. Default 1,000. */
  maxGroupAppends?: number
  /** A transaction stops taking appends once their records reach this many bytes. Default 16 MiB. */
  maxGroupBytes?: number
}

type Job =
  | AppendJob
  | {
      readonly alone: true
      readonly bytes: number
      readonly run: (c: pg.PoolClient) => Promise<void>
    }

/** Log rows read per query: a long log is read in pages, never in one result. */
const PAGE_ROWS = 500
/** How often a held lock's connection is checked (ms): a silent one is given up after as long. */
const LOCK_CHECK_MS = 2_000
const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

const positiveInteger = (value: number | undefined, name: string, fallback: number): number => {
  const resolved = value ?? fallback
  if (!Number.isSafeInteger(resolved) || resolved < 1) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `PostgresStore.open: options.${name} must be a positive integer, got ${String(value)}`,
    )
  }
  return resolved
}

/**
 * A {@link DocStore} on PostgreSQL. Appends queue up and each group — whatever its documents and
 * callers — is one transaction; an append resolves after its COMMIT. Several stores (relays) may
 * share one database: sequences and feed positions come from row locks, not from memory.
 */
export class PostgresStore implements DocStore, ExclusiveLocks, LogHeads {
  readonly #pool: pg.Pool
  readonly #ownsPool: boolean
  readonly #schema: string
  readonly #historyMs: number
  readonly #keyring: Keyring | null
  readonly #commits: GroupCommit<Job>
  readonly #lastWrite = new Map<string, Promise<void>>()
  readonly #locks = new StoreLocks()
  #closed = false
  #staleCompactions = 0

  /**
   * Connects, migrates the schema (once, even when several relays start together) and checks the
   * encryption marker. Throws `INVALID_ARGUMENT` for bad options, `STORAGE_FAILED` when
   * PostgreSQL cannot be reached, and `DECRYPTION_FAILED` for an encrypted schema opened without
   * keys.
   */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const historyMs = options?.historyMs ?? 0
    if (!Number.isSafeInteger(historyMs) || historyMs < 0) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `PostgresStore.open: options.historyMs must be a non-negative integer of milliseconds, got ${String(historyMs)}`,
      )
    }
    if ((options.url === undefined) === (options.pool === undefined)) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        'PostgresStore.open needs options.url or options.pool',
      )
    }
    const schema = quoteSchema(options.schema ?? 'weft')
    const limits = {
      maxJobs: positiveInteger(options.maxGroupAppends, 'maxGroupAppends', 1000),
      maxBytes: positiveInteger(options.maxGroupBytes, 'maxGroupBytes', 16 * 1024 * 1024),
    }
    const keyring =
      options.encryption === undefined
        ? null
        : resolveKeyring(options.encryption, 'PostgresStore.open')
    const pool =
      options.pool ??
      new pg.Pool({
        connectionString: options.url,
        max: positiveInteger(options.maxConnections, 'maxConnections', 10),
        connectionTimeoutMillis: positiveInteger(
          options.connectTimeoutMs,
          'connectTimeoutMs',
          5000,
        ),
      })
    // An idle connection dropped by the server (a restart) is replaced on next use.
    if (options.pool === undefined) pool.on('error', () => undefined)
    try {
      const client = await pool.connect().catch((cause: unknown) => {
        throw storageError('connecting', cause)
      })
      const ignore = (): void => undefined
      client.on('error', ignore)
      try {
        await migrate(client, options.schema ?? 'weft')
        await checkEncryptionMarker(client, schema, keyring)
      } finally {
        client.removeListener('error', ignore)
        client.release()
      }
    } catch (error) {
      if (options.pool === undefined) await pool.end()
      throw storageError('opening the store', error)
    }
    return new PostgresStore(pool, options.pool === undefined, schema, historyMs, keyring, limits)
  }

  private constructor(
    pool: pg.Pool,
    ownsPool: boolean,
    schema: string,
    historyMs: number,
    keyring: Keyring | null,
    limits: { maxJobs: number; maxBytes: number },
  ) {
    this.#pool = pool
    this.#ownsPool = ownsPool
    this.#schema = schema
    this.#historyMs = historyMs
    this.#keyring = keyring
    this.#commits = new GroupCommit<Job>((jobs) => this.#writeGroup(jobs), limits)
  }

  /** Each life of a document has its own incarnation (see `StoredDoc.incarnation`). */
  readonly keepsIncarnations = true

  get feedRetentionMs(): number {
    return this.#historyMs
  }

  /** Transactions committed (or attempted) by the writer so far; each may hold many appends. */
  get commitGroups(): number {
    return this.#commits.groups
  }

  /** Compactions that changed nothing because the stored one was as new or newer. */
  get staleCompactions(): number {
    return this.#staleCompactions
  }

  /** Resolves when PostgreSQL answers `SELECT 1` within `timeoutMs`; rejects `STORAGE_FAILED`. */
  async ping(timeoutMs = 1000): Promise<void> {
    this.#assertOpen()
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      await Promise.race([this.#pool.query('SELECT 1'), timeout])
    } catch (cause) {
      throw storageError('ping', cause)
    } finally {
      clearTimeout(timer)
    }
  }

  async load(name: string): Promise<StoredDoc> {
    this.#assertOpen()
    await this.#lastWrite.get(name)
    return this.#tx('loading a document', 'read', async (client) => {
      const { rows } = await client.query<{
        snapshot: Buffer | null
        head_seq: string
        compacted_through: string
        incarnation: string
      }>(
        `SELECT snapshot, head_seq, compacted_through, incarnation FROM ${this.#schema}.docs
         WHERE name = $1`,
        [name],
      )
      const row = rows[0]
      if (row === undefined) return { snapshot: null, updates: [], headSeq: 0, logBytes: 0 }
      const updates: Uint8Array[] = []
      let logBytes = 0
      await this.#eachRecord(client, name, Number(row.compacted_through), (_seq, entries) => {
        for (const { update } of entries) {
          updates.push(update)
          logBytes += update.length
        }
      })
      return {
        snapshot: row.snapshot === null ? null : this.#open(snapshotAddress(name), row.snapshot),
        updates,
        headSeq: Number(row.head_seq),
        logBytes,
        incarnation: row.incarnation,
      }
    })
  }

  /**
   * The updates of the records after `afterSeq`, with the head and incarnation, in one snapshot
   * (see `LogHeads.readLogAfter`): `null` once a compaction folded past `afterSeq`.
   */
  async readLogAfter(name: string, afterSeq: number): Promise<LogTail | null> {
    this.#assertOpen()
    await this.#lastWrite.get(name)
    return this.#tx('reading a document log', 'read', async (client) => {
      const { rows } = await client.query<{
        head_seq: string
        compacted_through: string
        incarnation: string
      }>(
        `SELECT head_seq, compacted_through, incarnation FROM ${this.#schema}.docs WHERE name = $1`,
        [name],
      )
      const row = rows[0]
      if (row === undefined) return { updates: [], headSeq: 0 }
      if (afterSeq < Number(row.compacted_through)) return null
      const updates: Uint8Array[] = []
      await this.#eachRecord(client, name, afterSeq, (_seq, entries) => {
        for (const { update } of entries) updates.push(update)
      })
      return { updates, headSeq: Number(row.head_seq), incarnation: row.incarnation }
    })
  }

  /**
   * The document's head sequence (see `LogHeads`), as committed now: one primary-key read of its
   * row, no record. 0 for a document the store does not hold.
   */
  async headSeq(name: string): Promise<number> {
    this.#assertOpen()
    const { rows } = await this.#pool
      .query<{ head_seq: string }>(`SELECT head_seq FROM ${this.#schema}.docs WHERE name = $1`, [
        name,
      ])
      .catch((cause: unknown) => {
        throw storageError('reading a document head', cause)
      })
    return rows[0] === undefined ? 0 : Number(rows[0].head_seq)
  }

  async append(
    name: string,
    entries: readonly AppendEntry[],
    changes: readonly FeedChange[] = [],
    options: AppendOptions = {},
  ): Promise<number> {
    this.#assertOpen()
    let bytes = 0
    for (const { update } of entries) bytes += update.length
    const { incarnation } = options
    const job: AppendJob = {
      alone: false,
      bytes,
      name,
      entries,
      changes,
      incarnation,
      seq: 0,
      refused: null,
      written: null,
    }
    await this.#track(name, job)
    if (job.refused !== null) throw job.refused
    if (job.written !== null) options.written?.(job.written)
    return job.seq
  }

  async compact(name: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    this.#assertOpen()
    const context = {
      schema: this.#schema,
      historyMs: this.#historyMs,
      seal: (at: string, plain: Uint8Array) => this.#seal(at, plain),
      open: (at: string, value: Uint8Array) => this.#open(at, value),
    }
    await this.#track(name, {
      alone: true,
      bytes: snapshot.length,
      run: async (client) => {
        if (!(await compactDoc(client, context, name, snapshot, throughSeq)))
          this.#staleCompactions += 1
      },
    })
  }

  async delete(name: string, change?: FeedChange): Promise<void> {
    this.#assertOpen()
    await this.#track(name, {
      alone: true,
      bytes: 0,
      run: async (client) => {
        await client.query(`DELETE FROM ${this.#schema}.docs WHERE name = $1`, [name])
        await client.query(`DELETE FROM ${this.#schema}.records WHERE doc = $1`, [name])
        if (this.#historyMs > 0 && change !== undefined)
          await writeFeed(client, this.#feedContext(), [{ name, changes: [change] }])
      },
    })
  }

  async list(): Promise<DocSummary[]> {
    this.#assertOpen()
    await this.#commits.idle()
    return this.#tx('listing documents', 'read', (client) => listDocs(client, this.#schema))
  }

  async history(name: string): Promise<DocHistory> {
    this.#assertOpen()
    await this.#lastWrite.get(name)
    return this.#tx('reading history', 'read', async (client) => {
      const { rows } = await client.query<{
        snapshot: Buffer | null
        hist_base: Buffer | null
        compacted_through: string
      }>(
        `SELECT snapshot, hist_base, compacted_through FROM ${this.#schema}.docs WHERE name = $1`,
        [name],
      )
      const row = rows[0]
      if (row === undefined) return { base: null, records: [] }
      const records: HistoryRecord[] = []
      await this.#eachRecord(client, name, 0, (seq, entries) => records.push({ seq, entries }))
      if (row.hist_base !== null)
        return { base: this.#open(histBaseAddress(name), row.hist_base), records }
      // No history folded yet: what came before the records is the snapshot.
      const kept = (records[0]?.seq ?? Number.POSITIVE_INFINITY) <= Number(row.compacted_through)
      const snapshot = kept ? null : row.snapshot
      return {
        base: snapshot === null ? null : this.#open(snapshotAddress(name), snapshot),
        records,
      }
    })
  }

  async readFeed(after: number, limit: number): Promise<FeedPage> {
    this.#assertOpen()
    return this.#tx('reading the change feed', 'read', (client) =>
      readFeedPage(client, this.#schema, (at, value) => this.#open(at, value), after, limit),
    )
  }

  async pruneFeed(nowMs = Date.now()): Promise<number> {
    this.#assertOpen()
    if (this.#historyMs === 0) return 0
    let removed = 0
    await this.#commits.submit({
      alone: true,
      bytes: 0,
      run: async (client) => {
        removed = await pruneFeedRows(client, this.#schema, nowMs - this.#historyMs)
      },
    })
    return removed
  }

  async readState(prefix: string): Promise<StateRecord[]> {
    this.#assertOpen()
    const { rows } = await this.#pool
      .query<{ key: string; value: Buffer }>(
        `SELECT key, value FROM ${this.#schema}.state
         WHERE key >= $1 AND key < $1 || chr(1114111) ORDER BY key`,
        [prefix],
      )
      .catch((cause: unknown) => {
        throw storageError('reading state records', cause)
      })
    return rows.map(({ key, value }) => ({
      key,
      value: JSON.parse(textDecoder.decode(this.#open(stateAddress(key), value))) as unknown,
    }))
  }

  async writeState(records: ReadonlyArray<{ key: string; value: unknown }>): Promise<void> {
    this.#assertOpen()
    // Checked before anything is written: a bad record writes none of them.
    const rows = this.#stateRows(records)
    await this.#commits.submit({
      alone: true,
      bytes: 0,
      run: (client) => writeStateRows(client, this.#schema, rows),
    })
  }

  /**
   * Takes lock `name` if no other relay holds it (see `ExclusiveLocks`): a session advisory lock
   * on a connection of its own, which PostgreSQL releases when that connection ends (the relay
   * stopped, died, or lost the server), with a fencing token its `writeState` checks. `close`
   * releases the locks the store still holds.
   */
  async tryLock(name: string): Promise<HeldLock | null> {
    this.#assertOpen()
    return this.#locks.take(() =>
      tryExclusiveLock(
        {
          connection: this.#pool.options,
          schema: this.#schema,
          schemaName: this.#schema.slice(1, -1),
          stateRows: (records) => this.#stateRows(records),
          readValue: (key, value) =>
            JSON.parse(textDecoder.decode(this.#open(stateAddress(key), value))) as unknown,
          write: (run) => {
            this.#assertOpen()
            return this.#commits.submit({ alone: true, bytes: 0, run })
          },
          checkIntervalMs: LOCK_CHECK_MS,
        },
        name,
      ),
    )
  }

  /**
   * Rewrites every sealed value not under the newest key (plaintext ones included) under it:
   * documents' snapshots, history bases and log records, change-feed entries and state records.
   * Works in batches of at most `maxBatchValues` (1,000) values and `maxBatchBytes` (16 MiB),
   * each one transaction that locks the rows it rewrites, so it may run while relays write to the
   * same database: no append, compaction or state write is lost or overwritten with older data.
   * Stopping it (`signal`, or killing the process) loses nothing; running it again continues
   * (values under the newest key are read, not rewritten). Throws `INVALID_ARGUMENT` for bad
   * options or a store opened without keys, `DECRYPTION_FAILED` for a value no key opens
   * (earlier batches stay committed), and `CLOSED` once the store closes.
   */
  async reencrypt(options: ReencryptOptions = {}): Promise<ReencryptResult> {
    this.#assertOpen()
    const keyring = this.#keyring
    if (keyring === null) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        'PostgresStore.reencrypt needs a store opened with encryption keys (options.encryption)',
      )
    }
    return reencryptRows(
      {
        schema: this.#schema,
        keyring,
        open: (at, value) => this.#open(at, value),
        seal: (at, plain) => this.#seal(at, plain),
        write: (run) => {
          this.#assertOpen()
          return this.#commits.submit({ alone: true, bytes: 0, run })
        },
      },
      options,
    )
  }

  /**
   * Waits for the writes in flight, releases the exclusive locks this store holds (so another
   * relay can take them at once) and, with `url`, ends the pool.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#commits.idle()
    await this.#locks.releaseAll()
    if (this.#ownsPool) await this.#pool.end()
  }

  /** State records as rows to write: sealed values to upsert, keys to delete. */
  #stateRows(records: ReadonlyArray<{ key: string; value: unknown }>): StateRows {
    const latest = new Map<string, string | null>()
    for (const { key, value } of records) latest.set(key, stateJson(key, value))
    const puts: string[] = []
    const values: Buffer[] = []
    const dels: string[] = []
    for (const [key, json] of latest) {
      if (json === null) {
        dels.push(key)
        continue
      }
      const sealed = this.#seal(stateAddress(key), textEncoder.encode(json))
      puts.push(key)
      values.push(Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength))
    }
    return { puts, values, dels }
  }

  /** Writes one group: the appends together, or one job that runs alone. */
  async #writeGroup(jobs: readonly Job[]): Promise<void> {
    const [first] = jobs
    if (first === undefined) return
    if (first.alone) {
      await this.#tx('writing', 'write', first.run)
      return
    }
    const appends = jobs as readonly AppendJob[]
    await this.#tx('appending', 'write', (client) =>
      writeAppendGroup(client, { ...this.#feedContext(), keepFeed: this.#historyMs > 0 }, appends),
    )
  }

  /** Submits a document's write and remembers it until it settles, for reads to wait on. */
  #track(name: string, job: Job): Promise<void> {
    const written = this.#commits.submit(job)
    const settled = written.then(
      () => undefined,
      () => undefined,
    )
    this.#lastWrite.set(name, settled)
    void settled.then(() => {
      if (this.#lastWrite.get(name) === settled) this.#lastWrite.delete(name)
    })
    return written
  }

  /** Calls `each` for the records of `name` after `afterSeq`, in order, a page at a time. */
  async #eachRecord(
    client: pg.PoolClient,
    name: string,
    afterSeq: number,
    each: (seq: number, entries: AppendEntry[]) => void,
  ): Promise<void> {
    for (let after = afterSeq; ;) {
      const { rows } = await client.query<{ seq: string; record: Buffer }>(
        `SELECT seq, record FROM ${this.#schema}.records WHERE doc = $1 AND seq > $2
         ORDER BY seq LIMIT $3`,
        [name, after, PAGE_ROWS],
      )
      for (const row of rows) {
        after = Number(row.seq)
        each(after, decodeLogRecord(this.#open(recordAddress(name, after), row.record)))
      }
      if (rows.length < PAGE_ROWS) return
    }
  }

  #feedContext(): { schema: string; seal: (at: string, plain: Uint8Array) => Uint8Array } {
    return { schema: this.#schema, seal: (at, plain) => this.#seal(at, plain) }
  }

  #tx<T>(what: string, mode: TxMode, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.#pool, what, mode, work)
  }

  #seal(address: string, plaintext: Uint8Array): Uint8Array {
    return this.#keyring === null ? plaintext : sealValue(this.#keyring, address, plaintext)
  }

  #open(address: string, value: Uint8Array): Uint8Array {
    return openValue(this.#keyring, address, value, describeAddress)
  }

  #assertOpen(): void {
    if (this.#closed) throw new WeftError('CLOSED', 'the PostgreSQL store is closed')
  }
}
