/** LevelStore: the DocStore on LevelDB (`level`), with group commit and atomic compaction. */
import { WeftError } from '@weft/protocol'
import type { AppendEntry, DocStore, StoredDoc } from '@weft/server'
import { Level } from 'level'
import { GroupCommit, type CommitJob } from './group-commit.js'
import {
  FORMAT_KEY,
  FORMAT_VALUE,
  logKey,
  logRange,
  metaKey,
  seqOfLogKey,
  snapshotKey,
} from './keys.js'
import { decodeLogRecord, encodeLogRecord } from './log-record.js'

type Db = Level<string, Uint8Array>
type Op = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string }

/** Options of {@link LevelStore.open}. */
export interface LevelStoreOptions {
  /** Directory of the LevelDB database; created if missing. */
  path: string
  /**
   * Write each group with `sync: true` (fsync) before acknowledging it. Default true; false
   * survives a crash of the relay process but not of the machine, and exists to measure the cost.
   */
  sync?: boolean
}

interface DocMeta {
  compactedThrough: number
}

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

/**
 * A {@link DocStore} on LevelDB. Each append is one log record; appends from every document that
 * arrive together share one `sync: true` batch (group commit), so an append resolves only once
 * it is on disk. Compaction
 * writes the snapshot, the metadata and the removal of the folded log entries in one batch.
 */
export class LevelStore implements DocStore {
  readonly #db: Db
  readonly #commits: GroupCommit<Op>
  /** Last sequence number per document, learned on first use. */
  readonly #heads = new Map<string, number>()
  /** The last write submitted per document, while it is in flight. */
  readonly #lastWrite = new Map<string, Promise<void>>()
  #closed = false

  /** Opens (creating if needed) the database at `options.path` and checks its layout version. */
  static async open(options: LevelStoreOptions): Promise<LevelStore> {
    if (typeof options?.path !== 'string' || options.path.length === 0) {
      throw new WeftError('INVALID_ARGUMENT', 'LevelStore.open needs options.path, a directory')
    }
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
    return new LevelStore(db, options.sync ?? true)
  }

  private constructor(db: Db, sync: boolean) {
    this.#db = db
    this.#commits = new GroupCommit<Op>((ops) => this.#db.batch(ops, { sync }))
  }

  /** Number of synced batches written so far (each may hold many appends). */
  get commitGroups(): number {
    return this.#commits.groups
  }

  async load(name: string): Promise<StoredDoc> {
    this.#assertOpen()
    // Reads must see every write already submitted for this document (and need not wait for
    // other documents' writes).
    await this.#lastWrite.get(name)
    const [snapshot, meta] = await this.#db.getMany([snapshotKey(name), metaKey(name)])
    const updates: Uint8Array[] = []
    let logBytes = 0
    let headSeq = parseMeta(meta).compactedThrough
    // `all()` reads the range in native batches (one thread-pool trip for a small log).
    for (const [key, value] of await this.#db.iterator(logRange(name)).all()) {
      for (const { update } of decodeLogRecord(value)) {
        updates.push(update)
        logBytes += update.length
      }
      headSeq = seqOfLogKey(key)
    }
    this.#heads.set(name, headSeq)
    return { snapshot: snapshot ?? null, updates, headSeq, logBytes }
  }

  async append(name: string, entries: readonly AppendEntry[]): Promise<number> {
    this.#assertOpen()
    let seq = 0
    await this.#track(name, {
      prepare: async () => {
        seq = (this.#heads.get(name) ?? (await this.#readHead(name))) + 1
        this.#heads.set(name, seq)
        return [{ type: 'put', key: logKey(name, seq), value: encodeLogRecord(entries) }]
      },
    })
    return seq
  }

  async compact(name: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    this.#assertOpen()
    await this.#track(name, {
      prepare: async () => {
        const ops: Op[] = [{ type: 'put', key: snapshotKey(name), value: snapshot }]
        const meta = parseMeta(await this.#db.get(metaKey(name)))
        const compactedThrough = Math.max(meta.compactedThrough, throughSeq)
        ops.push({
          type: 'put',
          key: metaKey(name),
          value: textEncoder.encode(JSON.stringify({ compactedThrough })),
        })
        for (const key of await this.#db.keys(logRange(name, throughSeq)).all())
          ops.push({ type: 'del', key })
        return ops
      },
    })
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
    const meta = parseMeta(await this.#db.get(metaKey(name)))
    let head = meta.compactedThrough
    for (const key of await this.#db.keys({ ...logRange(name), reverse: true, limit: 1 }).all())
      head = seqOfLogKey(key)
    return head
  }

  #assertOpen(): void {
    if (this.#closed) throw new WeftError('CLOSED', 'the LevelDB store is closed')
  }
}

const parseMeta = (bytes: Uint8Array | undefined): DocMeta => {
  if (bytes === undefined) return { compactedThrough: 0 }
  const parsed = JSON.parse(textDecoder.decode(bytes)) as Partial<DocMeta>
  return {
    compactedThrough: typeof parsed.compactedThrough === 'number' ? parsed.compactedThrough : 0,
  }
}
