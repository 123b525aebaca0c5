/** LevelLocalStore: the LocalStore on `level` (LevelDB in Node, IndexedDB in browsers), one writer namespace per opener. */
import { WeftError } from '@weft/protocol'
import { Level } from 'level'
import { planAdoption, type Adoption } from './level-adoption.js'
import {
  docPrefix,
  encodeMeta,
  headOf,
  isRef,
  numberedKey,
  prefixRange,
  prepareLayout,
  readHead,
  scanWriters,
  section,
  writerPrefix,
  type Db,
  type Op,
  type WriterHead,
  type WriterKeys,
} from './level-layout.js'
import {
  acquireWriter,
  tryHoldWriter,
  webLocks,
  withLayoutLock,
  type WriterLease,
} from './level-writer-lock.js'
import { validateLevelOptions, type LevelLocalStoreOptions } from './level-options.js'
import type { LocalChange, LocalDoc, LocalStore, OutboxRecord } from './local-store.js'
import { KeyedQueue } from './keyed-queue.js'

export type { LevelLocalStoreOptions } from './level-options.js'
export type { WriterChoice } from './level-writer-lock.js'

/**
 * A {@link LocalStore} on LevelDB (Node) or IndexedDB (browsers), through the `level` package.
 *
 * Every opener writes only its own writer namespace (key layout v2, see the README): in browsers
 * several tabs may open one database at once, each under a writer id it holds a Web Lock on for
 * its whole life, and nothing one opener does can overwrite or delete another live opener's keys.
 * A namespace whose lock is free (its tab closed or crashed) is adopted by the next `load` of each
 * document. In Node the LevelDB LOCK file allows one opener per directory: a second `open` (in
 * this or another process) fails with `STORAGE_FAILED`. Each `write`, `compact` and `clear` is one
 * atomic batch (one IndexedDB transaction), written with `sync: true` unless `sync` is `false`.
 */
export class LevelLocalStore implements LocalStore {
  readonly #db: Db
  readonly #sync: boolean
  readonly #location: string
  readonly #lease: WriterLease
  /** The Web Locks that let this opener adopt and clear orphaned namespaces; none in Node. */
  readonly #locks: LockManager | undefined
  /** This opener's own head per document; only this opener writes its namespace, so it stays true. */
  readonly #heads = new Map<string, WriterHead>()
  /** Calls for one document run one at a time. */
  readonly #queue = new KeyedQueue()
  #closed = false

  /**
   * Opens (creating if needed) the store at `options.location`, checks its layout marker
   * (migrating layout v1) and takes a writer namespace. Rejects with `INVALID_ARGUMENT` for bad
   * options and with `STORAGE_FAILED` when the location is in use (Node) or holds other data.
   */
  static async open(options: LevelLocalStoreOptions): Promise<LevelLocalStore> {
    const { location, sync, writer } = validateLevelOptions(options)
    const db: Db = new Level<string, Uint8Array>(location, {
      keyEncoding: 'utf8',
      valueEncoding: 'view',
    })
    try {
      await db.open()
    } catch (cause) {
      throw new WeftError(
        'STORAGE_FAILED',
        `cannot open the local store at "${location}": another LevelLocalStore (in this or another ` +
          'process) has it open, or it is not accessible. Close the other store first, or ' +
          'use another location.',
        { cause },
      )
    }
    // browser-level takes no lock, so openers share the database; classic-level's LOCK file
    // makes the one opener of a directory exclusive.
    const exclusive = (db as { type?: unknown }).type !== 'browser-level'
    try {
      await withLayoutLock(location, exclusive, () => prepareLayout(db, location))
      const lease = await acquireWriter(location, writer, exclusive)
      return new LevelLocalStore(db, location, sync, lease, exclusive ? undefined : webLocks())
    } catch (error) {
      await db.close()
      if (error instanceof WeftError) throw error
      throw new WeftError('STORAGE_FAILED', `cannot prepare the local store at "${location}"`, {
        cause: error,
      })
    }
  }

  private constructor(
    db: Db,
    location: string,
    sync: boolean,
    lease: WriterLease,
    locks: LockManager | undefined,
  ) {
    this.#db = db
    this.#location = location
    this.#sync = sync
    this.#lease = lease
    this.#locks = locks
  }

  /** The directory (Node) or IndexedDB database name (browsers) this store opened. */
  get location(): string {
    return this.#location
  }

  /** The id of this opener's writer namespace: `main` in Node, random letters and digits in browsers. */
  get writerId(): string {
    return this.#lease.writerId
  }

  /**
   * Reads a document. `snapshot`, the first `updates`, `outbox` and `lastRef` are this opener's.
   * Namespaces of writers that are gone (their lock is free) are adopted first, in one batch each:
   * their snapshot and log are appended to `updates` and their outbox records join `outbox` under
   * refs above this opener's `lastRef`. Namespaces of live writers (or of any other writer when
   * the browser has no Web Locks) are read, not touched: their snapshot, log and outbox updates
   * come last in `updates`. So `updates` may include other writers' state, some of it twice.
   */
  async load(doc: string): Promise<LocalDoc> {
    const prefix = this.#docPrefix(doc)
    return this.#serial(doc, async () => {
      const writers = await scanWriters(this.#db, prefix)
      const own = writers.get(this.writerId)
      const head = headOf(own, doc)
      const updates = own?.log.map(({ value }) => value) ?? []
      const outbox =
        own?.outbox.map(({ ref, value }): OutboxRecord => ({ ref, update: value })) ?? []
      const readOnly: Uint8Array[] = []
      for (const [writerId, theirs] of writers) {
        if (writerId === this.writerId) continue
        const adopted = await this.#adopt(prefix, writerId, head, doc)
        if (adopted === null) {
          collectState(theirs, readOnly)
          continue
        }
        Object.assign(head, adopted.head)
        for (const update of adopted.updates) updates.push(update)
        for (const record of adopted.outbox) outbox.push(record)
      }
      for (const update of readOnly) updates.push(update)
      this.#heads.set(doc, head)
      return { snapshot: own?.snapshot ?? null, updates, outbox, lastRef: head.lastRef }
    })
  }

  async write(doc: string, change: LocalChange): Promise<void> {
    const prefix = writerPrefix(this.#docPrefix(doc), this.writerId)
    for (const { ref } of change.outboxAdd ?? []) {
      if (!isRef(ref)) {
        throw new WeftError('INVALID_ARGUMENT', `outbox ref ${ref} is not a non-negative integer`)
      }
    }
    await this.#serial(doc, async () => {
      const head = this.#heads.get(doc) ?? (await readHead(this.#db, prefix, doc))
      const next = { ...head }
      const ops: Op[] = []
      for (const value of change.updates ?? [])
        ops.push({ type: 'put', key: numberedKey(prefix, 'log', next.nextSeq++), value })
      for (const { ref, update } of change.outboxAdd ?? []) {
        ops.push({ type: 'put', key: numberedKey(prefix, 'outbox', ref), value: update })
        next.lastRef = Math.max(next.lastRef, ref)
      }
      // A ref that is not a valid ref cannot be in the outbox: removing it is a no-op.
      for (const ref of (change.outboxRemove ?? []).filter(isRef))
        ops.push({ type: 'del', key: numberedKey(prefix, 'outbox', ref) })
      if (next.nextSeq !== head.nextSeq || next.lastRef !== head.lastRef) {
        ops.push({ type: 'put', key: `${prefix}meta`, value: encodeMeta(next) })
      }
      if (ops.length === 0) return
      await this.#db.batch(ops, { sync: this.#sync })
      this.#heads.set(doc, next)
    })
  }

  /**
   * Replaces this opener's snapshot and log of `doc` with `snapshot`, which must include what
   * this opener loaded and wrote (it may include other writers' state too). Other writers' keys
   * are not touched.
   */
  async compact(doc: string, snapshot: Uint8Array): Promise<void> {
    const prefix = writerPrefix(this.#docPrefix(doc), this.writerId)
    await this.#serial(doc, async () => {
      const ops: Op[] = [{ type: 'put', key: `${prefix}snapshot`, value: snapshot }]
      // Sequence numbers go on from `nextSeq` in the meta key, which outlives the log.
      for await (const key of this.#db.keys(section(prefix, 'log'))) ops.push({ type: 'del', key })
      await this.#db.batch(ops, { sync: this.#sync })
    })
  }

  /**
   * Removes this opener's keys of `doc` and those of writers that are gone (their lock is free);
   * live writers' keys stay (and so do all others' when the browser has no Web Locks).
   */
  async clear(doc: string): Promise<void> {
    const prefix = this.#docPrefix(doc)
    await this.#serial(doc, async () => {
      const ops: Op[] = []
      const leases: WriterLease[] = []
      try {
        for (const writerId of (await scanWriters(this.#db, prefix)).keys()) {
          if (writerId !== this.writerId) {
            const lease = await this.#tryHold(writerId)
            if (lease === null) continue
            leases.push(lease)
          }
          // Listed again: a writer that was gone may have written more before its lock was free.
          for await (const key of this.#db.keys(prefixRange(writerPrefix(prefix, writerId))))
            ops.push({ type: 'del', key })
        }
        this.#heads.delete(doc)
        if (ops.length > 0) await this.#db.batch(ops, { sync: this.#sync })
      } finally {
        for (const lease of leases) await lease.release()
      }
    })
  }

  /**
   * Opens another writer of the same database under a fresh namespace (`writer: 'new'`), for a
   * second client on this device. In Node the LevelDB LOCK refuses it with `STORAGE_FAILED`.
   */
  async openSibling(): Promise<LevelLocalStore> {
    if (this.#closed) throw new WeftError('CLOSED', 'the level local store is closed')
    return LevelLocalStore.open({ location: this.#location, sync: this.#sync, writer: 'new' })
  }

  /** Waits for the calls under way, closes the database, then frees the writer namespace. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#queue.idle()
    this.#heads.clear()
    try {
      await this.#db.close()
    } finally {
      await this.#lease.release()
    }
  }

  /**
   * Adopts writer `writerId`'s namespace of a document if its lock is free, holding the lock
   * while it reads and moves it; `null` when the writer is alive or there are no Web Locks.
   */
  async #adopt(
    prefix: string,
    writerId: string,
    head: WriterHead,
    doc: string,
  ): Promise<Adoption | null> {
    const lease = await this.#tryHold(writerId)
    if (lease === null) return null
    try {
      // Read again under the lock: the writer may have written after the scan, before it died.
      const orphan = (await scanWriters(this.#db, writerPrefix(prefix, writerId))).get(writerId)
      if (orphan === undefined) return { ops: [], head, updates: [], outbox: [] }
      const adoption = planAdoption(orphan, writerPrefix(prefix, this.writerId), head, doc)
      await this.#db.batch(adoption.ops, { sync: this.#sync })
      return adoption
    } finally {
      await lease.release()
    }
  }

  #tryHold(writerId: string): Promise<WriterLease | null> {
    if (this.#locks === undefined) return Promise.resolve(null)
    return tryHoldWriter(this.#locks, this.#location, writerId)
  }

  /** The key prefix of `doc`; throws `CLOSED` once closed, so every call checks it first. */
  #docPrefix(doc: string): string {
    if (this.#closed) throw new WeftError('CLOSED', 'the level local store is closed')
    return docPrefix(doc)
  }

  /**
   * Runs a database operation after every earlier call for `doc`, reporting its failures as
   * `STORAGE_FAILED` (or `CLOSED`). The client never overlaps calls for one document, but two
   * that did must not both take the same sequence numbers.
   */
  #serial<T>(doc: string, operation: () => Promise<T>): Promise<T> {
    return this.#queue.run(doc, () => this.#guard(operation))
  }

  async #guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation()
    } catch (error) {
      if (error instanceof WeftError) throw error
      if (this.#closed) {
        throw new WeftError('CLOSED', 'the level local store was closed', { cause: error })
      }
      throw new WeftError('STORAGE_FAILED', 'the level local store failed to read or write', {
        cause: error,
      })
    }
  }
}

/** A writer's whole state as updates: snapshot, log, then outbox updates. */
const collectState = (writer: WriterKeys, into: Uint8Array[]): void => {
  if (writer.snapshot !== undefined) into.push(writer.snapshot)
  for (const { value } of writer.log) into.push(value)
  for (const { value } of writer.outbox) into.push(value)
}
