/**
 * LevelStore: the DocStore on LevelDB (`level`), with group commit, atomic compaction and
 * optional encryption at rest.
 */
import { WeftError } from '@weft/protocol'
import {
  stateJson,
  type AppendEntry,
  type DocHistory,
  type DocImage,
  type DocStore,
  type DocSummary,
  type FeedChange,
  type FeedPage,
  type FeedSeqImage,
  type HistoryRecord,
  type LogHeads,
  type StateRecord,
  type StoredDoc,
} from '@weft/server/store'
import { Level } from 'level'
import { GroupCommit, type CommitJob } from './group-commit.js'
import {
  docPrefix,
  FORMAT_KEY,
  FORMAT_VALUE,
  stateKey,
  stateRange,
  histBaseKey,
  histRange,
  loadRange,
  logKey,
  logRange,
  metaKey,
  seqOfLogKey,
  snapshotKey,
} from './keys.js'
import { decodeLogRecord, encodeLogRecord } from '@weft/server/store'
import { listDocs } from './doc-listing.js'
import { parseMeta, type DocMeta } from './doc-meta.js'
import { checkEncryptionMarker } from './encryption-marker.js'
import { readDocImages, readDocRecords, readFeedSeqs } from './doc-export.js'
import { historyWrites } from './history-writes.js'
import type { Op, StoreAccess } from './store-access.js'
import { RECENT_DOCS, RecentCounters } from './recent-counters.js'
import { LevelFeed } from './level-feed.js'
import { reencryptValues, type ReencryptOptions, type ReencryptResult } from './reencrypt.js'
import {
  openValue,
  resolveKeyring,
  sealValue,
  type EncryptionOptions,
  type Keyring,
} from './value-cipher.js'

type Db = Level<string, Uint8Array>

/** Options of {@link LevelStore.open}. */
export interface LevelStoreOptions {
  /** Directory of the LevelDB database; created if missing. */
  path: string
  /**
   * Write each group with `sync: true` (fsync) before acknowledging it. Default true; false
   * survives a crash of the relay process but not of the machine, and exists to measure the cost.
   */
  sync?: boolean
  /**
   * Encrypt every value (snapshots, log records, metadata) with AES-256-GCM. The last key
   * encrypts, every key decrypts. Plaintext values already in the store stay readable; once a
   * store was opened with keys, opening it without them is refused. Default: no encryption.
   */
  encryption?: EncryptionOptions
  /**
   * Keep log records this long (ms) after compaction folded them, for point-in-time reads,
   * audit and restore (`history`). Records older than that are merged into the history base.
   * Default 0: compaction deletes what it folds.
   */
  historyMs?: number
  /**
   * Documents whose counters (log head, change-feed sequence) stay in memory; others are read
   * from disk when next written. Default 10,000, so memory does not grow with every document
   * the store has ever written.
   */
  recentDocs?: number
}

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

/**
 * A {@link DocStore} on LevelDB. Each append is one log record; appends from every document that
 * arrive together share one `sync: true` batch (group commit), so an append resolves only once
 * it is on disk. Compaction
 * writes the snapshot, the metadata and the removal of the folded log entries in one batch.
 * With `encryption`, every value is sealed on its own (see `value-cipher.ts`); a value that does
 * not decrypt makes `load` throw `DECRYPTION_FAILED`, so a document is never served without it.
 */
export class LevelStore implements DocStore, LogHeads {
  readonly #db: Db
  readonly #commits: GroupCommit<Op>
  readonly #keyring: Keyring | null
  readonly #historyMs: number
  /** Last sequence number of the documents used most recently, learned on first use. */
  readonly #heads: RecentCounters
  /** The last write submitted per document, while it is in flight. */
  readonly #lastWrite = new Map<string, Promise<void>>()
  readonly #access: StoreAccess
  readonly #feed: LevelFeed
  #closed = false
  #staleCompactions = 0

  /**
   * Opens (creating if needed) the database at `options.path` and checks its layout version.
   * Throws `INVALID_ARGUMENT` for bad options (before touching the disk), `STORAGE_FAILED` when
   * the directory cannot be opened, and `DECRYPTION_FAILED` for an encrypted store opened
   * without keys.
   */
  static async open(options: LevelStoreOptions): Promise<LevelStore> {
    if (typeof options?.path !== 'string' || options.path.length === 0) {
      throw new WeftError('INVALID_ARGUMENT', 'LevelStore.open needs options.path, a directory')
    }
    const historyMs = options.historyMs ?? 0
    if (!Number.isSafeInteger(historyMs) || historyMs < 0) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `options.historyMs must be a non-negative integer of milliseconds, got ${String(historyMs)}`,
      )
    }
    const recentDocs = options.recentDocs ?? RECENT_DOCS
    if (!Number.isSafeInteger(recentDocs) || recentDocs < 1) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `options.recentDocs must be a positive integer, got ${String(recentDocs)}`,
      )
    }
    const keyring = options.encryption === undefined ? null : resolveKeyring(options.encryption)
    const db: Db = new Level<string, Uint8Array>(options.path, {
      keyEncoding: 'utf8',
      valueEncoding: 'view',
    })
    try {
      await db.open()
    } catch (cause) {
      throw new WeftError(
        'STORAGE_FAILED',
        `cannot open the LevelDB store at ${options.path} (is another relay using it?)`,
        { cause },
      )
    }
    const format = await db.get(FORMAT_KEY)
    if (format === undefined) {
      await db.put(FORMAT_KEY, textEncoder.encode(FORMAT_VALUE), { sync: true })
    } else if (textDecoder.decode(format) !== FORMAT_VALUE) {
      await db.close()
      throw new WeftError(
        'STORAGE_FAILED',
        `${options.path} holds layout "${textDecoder.decode(format)}", expected "${FORMAT_VALUE}"`,
      )
    }
    try {
      await checkEncryptionMarker(db, options.path, keyring)
    } catch (error) {
      await db.close()
      throw error
    }
    return new LevelStore(db, options.sync ?? true, keyring, historyMs, recentDocs)
  }

  private constructor(
    db: Db,
    sync: boolean,
    keyring: Keyring | null,
    historyMs: number,
    recentDocs: number,
  ) {
    this.#db = db
    this.#keyring = keyring
    this.#historyMs = historyMs
    this.#access = {
      db,
      seal: (key, plain) => this.#seal(key, plain),
      open: (key, value) => this.#open(key, value),
    }
    // A counter may be forgotten once no write of its document is in flight: the disk has it.
    const settled = (name: string): boolean => !this.#lastWrite.has(name)
    this.#heads = new RecentCounters(recentDocs, settled)
    this.#feed = new LevelFeed(this.#access, new RecentCounters(recentDocs, settled))
    this.#commits = new GroupCommit<Op>(async (ops) => {
      try {
        await this.#db.batch(ops, { sync })
      } catch (error) {
        // What the failed group's jobs counted is not on disk: count again from the disk.
        this.#heads.clear()
        this.#feed.forget()
        throw error
      }
    })
  }

  get feedRetentionMs(): number {
    return this.#historyMs
  }

  /** Number of synced batches written so far (each may hold many appends). */
  get commitGroups(): number {
    return this.#commits.groups
  }

  /** Compactions that changed nothing because the stored one was as new or newer. */
  get staleCompactions(): number {
    return this.#staleCompactions
  }

  async load(name: string): Promise<StoredDoc> {
    this.#assertOpen()
    // Reads must see every write already submitted for this document (and need not wait for
    // other documents' writes).
    await this.#lastWrite.get(name)
    // One iterator reads the log, the metadata and the snapshot from one LevelDB snapshot: a
    // compaction committing meanwhile cannot pair the old snapshot with the shortened log.
    let snapshot: Uint8Array | null = null
    const updates: Uint8Array[] = []
    let logBytes = 0
    let compactedThrough = 0
    let logHead = 0
    // `all()` reads the range in native batches (one thread-pool trip for a small log).
    for (const [key, value] of await this.#db.iterator(loadRange(name)).all()) {
      if (key === snapshotKey(name)) {
        snapshot = this.#open(key, value)
      } else if (key === metaKey(name)) {
        compactedThrough = this.#readMeta(name, value).compactedThrough
      } else {
        for (const { update } of decodeLogRecord(this.#open(key, value))) {
          updates.push(update)
          logBytes += update.length
        }
        logHead = seqOfLogKey(key)
      }
    }
    const headSeq = Math.max(compactedThrough, logHead)
    // An append prepared meanwhile knows a later head than this read: keep it.
    if (this.#heads.get(name) === undefined) this.#heads.set(name, headSeq)
    return { snapshot, updates, headSeq, logBytes }
  }

  /** The document's head sequence (see `LogHeads`): 0 for one the store does not hold. */
  async headSeq(name: string): Promise<number> {
    this.#assertOpen()
    await this.#lastWrite.get(name)
    return this.#readHead(name)
  }

  async append(
    name: string,
    entries: readonly AppendEntry[],
    changes: readonly FeedChange[] = [],
  ): Promise<number> {
    this.#assertOpen()
    let seq = 0
    await this.#track(name, {
      prepare: async () => {
        seq = (this.#heads.get(name) ?? (await this.#readHead(name))) + 1
        this.#heads.set(name, seq)
        const key = logKey(name, seq)
        const ops: Op[] = [{ type: 'put', key, value: this.#seal(key, encodeLogRecord(entries)) }]
        if (this.#historyMs > 0 && changes.length > 0)
          for (const op of await this.#feed.add(name, changes)) ops.push(op)
        return ops
      },
    })
    return seq
  }

  async readFeed(after: number, limit: number): Promise<FeedPage> {
    this.#assertOpen()
    return this.#feed.read(after, limit)
  }

  async pruneFeed(nowMs = Date.now()): Promise<number> {
    this.#assertOpen()
    if (this.#historyMs === 0) return 0
    let removed = 0
    await this.#commits.submit({
      prepare: async () => {
        const pruned = await this.#feed.prune(nowMs - this.#historyMs)
        removed = pruned.removed
        return pruned.ops
      },
    })
    return removed
  }

  async readState(prefix: string): Promise<StateRecord[]> {
    this.#assertOpen()
    const records: StateRecord[] = []
    for (const [key, value] of await this.#db.iterator(stateRange(prefix)).all()) {
      const json = textDecoder.decode(this.#open(key, value))
      records.push({ key: key.slice(stateKey('').length), value: JSON.parse(json) as unknown })
    }
    return records
  }

  async writeState(records: ReadonlyArray<{ key: string; value: unknown }>): Promise<void> {
    this.#assertOpen()
    const ops: Op[] = records.map(({ key, value }) => {
      const json = stateJson(key, value)
      const at = stateKey(key)
      return json === null
        ? { type: 'del', key: at }
        : { type: 'put', key: at, value: this.#seal(at, textEncoder.encode(json)) }
    })
    await this.#commits.submit({ prepare: () => ops })
  }

  async compact(name: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    this.#assertOpen()
    await this.#track(name, {
      // Alone, so what it reads (the metadata, the head, the log) holds every earlier write,
      // another compaction of the same document included.
      alone: true,
      prepare: async () => {
        const meta = this.#readMeta(name, await this.#db.get(metaKey(name)))
        // Stale (see DocStore.compact): an older snapshot must not replace a newer one.
        if (throughSeq <= meta.compactedThrough || throughSeq > (await this.#readHead(name))) {
          this.#staleCompactions += 1
          return []
        }
        const at = snapshotKey(name)
        const ops: Op[] = [{ type: 'put', key: at, value: this.#seal(at, snapshot) }]
        const json = textEncoder.encode(
          JSON.stringify({ compactedThrough: throughSeq, compactedAtMs: Date.now() }),
        )
        ops.push({ type: 'put', key: metaKey(name), value: this.#seal(metaKey(name), json) })
        const folded = await this.#db.iterator(logRange(name, throughSeq)).all()
        for (const [key] of folded) ops.push({ type: 'del', key })
        if (this.#historyMs > 0)
          for (const op of await historyWrites(this.#access, name, folded, meta, this.#historyMs))
            ops.push(op)
        return ops
      },
    })
  }

  async list(): Promise<DocSummary[]> {
    this.#assertOpen()
    await this.#commits.idle()
    return listDocs(this.#access)
  }

  async history(name: string): Promise<DocHistory> {
    this.#assertOpen()
    await this.#lastWrite.get(name)
    const base = await this.#db.get(histBaseKey(name))
    const records: HistoryRecord[] = []
    for (const range of [histRange(name), logRange(name)]) {
      for (const [key, value] of await this.#db.iterator(range).all())
        records.push({ seq: seqOfLogKey(key), entries: decodeLogRecord(this.#open(key, value)) })
    }
    if (base !== undefined) return { base: this.#open(histBaseKey(name), base), records }
    // No history folded yet: what came before the log is the snapshot.
    const kept = await this.#db.keys({ ...histRange(name), limit: 1 }).all()
    const snapshot = kept.length === 0 ? await this.#db.get(snapshotKey(name)) : undefined
    return {
      base: snapshot === undefined ? null : this.#open(snapshotKey(name), snapshot),
      records,
    }
  }

  async delete(name: string, change?: FeedChange): Promise<void> {
    this.#assertOpen()
    await this.#track(name, {
      prepare: async () => {
        const prefix = docPrefix(name)
        const keys = await this.#db.keys({ gte: prefix, lt: `${prefix}~` }).all()
        this.#heads.delete(name)
        const ops = keys.map((key): Op => ({ type: 'del', key }))
        if (this.#historyMs > 0 && change !== undefined)
          for (const op of await this.#feed.add(name, [change])) ops.push(op)
        return ops
      },
    })
  }

  /**
   * Rewrites every value not yet under the newest key (including plaintext ones) under it, in
   * batches of at most `maxBatchValues` values and `maxBatchBytes` bytes, each one atomic and
   * committed between the relay's writes, so it may run while the store is in use. Stopping it
   * (with `signal`, or by killing the process) loses nothing; running it again continues. Throws
   * `DECRYPTION_FAILED` for a value no key opens (earlier batches stay written), and
   * `INVALID_ARGUMENT` on a store opened without encryption.
   */
  async reencrypt(options: ReencryptOptions = {}): Promise<ReencryptResult> {
    this.#assertOpen()
    const keyring = this.#keyring
    if (keyring === null) {
      throw new WeftError('INVALID_ARGUMENT', 'reencrypt needs a store opened with encryption keys')
    }
    const commit = (job: CommitJob<Op>): Promise<void> => {
      this.#assertOpen()
      return this.#commits.submit(job)
    }
    return reencryptValues({ db: this.#db, keyring, commit }, options)
  }

  /**
   * Every document as a {@link DocImage} (sequence numbers, compaction point, snapshot, history
   * base), one at a time, for copying the store to another one. With {@link exportRecords} and
   * {@link exportFeedSeqs} (and `readFeed`, `readState`), it is everything the store holds. Meant
   * for a store nothing writes to meanwhile.
   */
  exportDocs(): AsyncGenerator<DocImage> {
    this.#assertOpen()
    return readDocImages(this.#access)
  }

  /** A document's records, history first, then the log, oldest first, read as they are used. */
  exportRecords(name: string): AsyncGenerator<HistoryRecord> {
    this.#assertOpen()
    return readDocRecords(this.#access, name)
  }

  /** Every document's last change-feed sequence number (deleted documents' too). */
  exportFeedSeqs(): AsyncGenerator<FeedSeqImage> {
    this.#assertOpen()
    return readFeedSeqs(this.#access)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#commits.idle()
    await this.#db.close()
  }

  /** Submits a document's write and remembers it until it settles, for `load` to wait on. */
  #track(name: string, job: CommitJob<Op>): Promise<void> {
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

  async #readHead(name: string): Promise<number> {
    const meta = this.#readMeta(name, await this.#db.get(metaKey(name)))
    let head = meta.compactedThrough
    for (const key of await this.#db.keys({ ...logRange(name), reverse: true, limit: 1 }).all())
      head = seqOfLogKey(key)
    return head
  }

  #seal(key: string, plaintext: Uint8Array): Uint8Array {
    return this.#keyring === null ? plaintext : sealValue(this.#keyring, key, plaintext)
  }

  #open(key: string, value: Uint8Array): Uint8Array {
    return openValue(this.#keyring, key, value)
  }

  #readMeta(name: string, value: Uint8Array | undefined): DocMeta {
    return parseMeta(value === undefined ? undefined : this.#open(metaKey(name), value))
  }

  #assertOpen(): void {
    if (this.#closed) throw new WeftError('CLOSED', 'the LevelDB store is closed')
  }
}
