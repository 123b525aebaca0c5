/**
 * LevelLocalStore: the LocalStore on `level` (LevelDB in Node, IndexedDB in browsers).
 *
 * Key layout v1. Every key starts with `v1:`; a document's keys share the prefix
 * `v1:doc:<percent-encoded name>:` (`encodeURIComponent` leaves no `:` in a name, so the separator
 * cannot be forged), and numbers in keys are 16-digit zero-padded so they sort numerically:
 *
 * - `v1:format` → `weft-local-level-1`, the layout marker
 * - `v1:doc:<name>:meta` → JSON `{ "lastRef": <n>, "nextSeq": <n> }`
 * - `v1:doc:<name>:snapshot` → the compacted state (a Yjs v1 update)
 * - `v1:doc:<name>:log:<seq>` → one state update, in write order
 * - `v1:doc:<name>:outbox:<ref>` → the update of the outbox record `ref`
 */
import { WeftError } from '@weft/protocol'
import { Level } from 'level'
import type { LocalChange, LocalDoc, LocalStore, OutboxRecord } from './local-store.js'

/** Options of {@link LevelLocalStore.open}. */
export interface LevelLocalStoreOptions {
  /** In Node, the LevelDB directory (created if missing); in browsers, the IndexedDB database name. */
  readonly location: string
  /**
   * Write every batch with `sync: true`, so a `write` resolves only once it is flushed to disk and
   * survives a power loss, not only a crash of the app. Default `true`. Browsers ignore it.
   */
  readonly sync?: boolean
}

type Db = Level<string, Uint8Array>
type Op = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string }

/** What the store knows about a document's keys without reading them again. */
interface DocHead {
  /** Sequence number of the next log entry. */
  nextSeq: number
  lastRef: number
}

const FORMAT_KEY = 'v1:format'
const FORMAT_VALUE = 'weft-local-level-1'
const NUMBER_DIGITS = 16

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

/**
 * A {@link LocalStore} on LevelDB (Node) or IndexedDB (browsers), through the `level` package.
 * Each `write`, `compact` and `clear` is one atomic batch, written with `sync: true` unless the
 * `sync` option is `false`. One instance per location: a second open of a location in use fails
 * with `STORAGE_FAILED`.
 */
export class LevelLocalStore implements LocalStore {
  readonly #db: Db
  readonly #sync: boolean
  /** Per document, learned on first use; valid because calls for one document never overlap. */
  readonly #heads = new Map<string, DocHead>()
  #closed = false

  /**
   * Opens (creating if needed) the store at `options.location` and checks its layout marker.
   * Rejects with `STORAGE_FAILED` when the location is in use or holds other data.
   */
  static async open(options: LevelLocalStoreOptions): Promise<LevelLocalStore> {
    const location: unknown = options?.location
    if (typeof location !== 'string' || location.length === 0) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        'LevelLocalStore.open needs options.location, a directory (Node) or a database name (browsers)',
      )
    }
    const sync: unknown = options.sync ?? true
    if (typeof sync !== 'boolean') {
      throw new WeftError(
        'INVALID_ARGUMENT',
        'LevelLocalStore.open: options.sync must be a boolean',
      )
    }
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
          'process or tab) has it open, or it is not accessible. Close the other store first, or ' +
          'use another location.',
        { cause },
      )
    }
    try {
      await checkFormat(db, location)
    } catch (error) {
      await db.close()
      throw error
    }
    return new LevelLocalStore(db, sync)
  }

  private constructor(db: Db, sync: boolean) {
    this.#db = db
    this.#sync = sync
  }

  async load(doc: string): Promise<LocalDoc> {
    const prefix = this.#prefix(doc)
    return this.#guard(async () => {
      const [metaBytes, snapshot] = await this.#db.getMany([`${prefix}meta`, `${prefix}snapshot`])
      const meta = parseMeta(metaBytes, doc)
      const updates: Uint8Array[] = []
      let lastSeq = 0
      for await (const [key, value] of this.#db.iterator(section(prefix, 'log'))) {
        updates.push(new Uint8Array(value))
        lastSeq = numberAtEnd(key)
      }
      const outbox: OutboxRecord[] = []
      for await (const [key, value] of this.#db.iterator(section(prefix, 'outbox')))
        outbox.push({ ref: numberAtEnd(key), update: new Uint8Array(value) })
      this.#heads.set(doc, { nextSeq: Math.max(meta.nextSeq, lastSeq + 1), lastRef: meta.lastRef })
      // `new Uint8Array(…)` copies Node's Buffers into plain arrays the caller owns.
      const copy = snapshot === undefined ? null : new Uint8Array(snapshot)
      return { snapshot: copy, updates, outbox, lastRef: meta.lastRef }
    })
  }

  async write(doc: string, change: LocalChange): Promise<void> {
    const prefix = this.#prefix(doc)
    for (const { ref } of change.outboxAdd ?? []) {
      if (!isRef(ref)) {
        throw new WeftError('INVALID_ARGUMENT', `outbox ref ${ref} is not a non-negative integer`)
      }
    }
    await this.#guard(async () => {
      const head = this.#heads.get(doc) ?? (await this.#readHead(prefix, doc))
      const next = { ...head }
      const ops: Op[] = []
      for (const update of change.updates ?? [])
        ops.push({ type: 'put', key: `${prefix}log:${pad(next.nextSeq++)}`, value: update })
      for (const { ref, update } of change.outboxAdd ?? []) {
        ops.push({ type: 'put', key: `${prefix}outbox:${pad(ref)}`, value: update })
        next.lastRef = Math.max(next.lastRef, ref)
      }
      // A ref that is not a valid ref cannot be in the outbox: removing it is a no-op.
      for (const ref of (change.outboxRemove ?? []).filter(isRef))
        ops.push({ type: 'del', key: `${prefix}outbox:${pad(ref)}` })
      if (next.nextSeq !== head.nextSeq || next.lastRef !== head.lastRef) {
        ops.push({ type: 'put', key: `${prefix}meta`, value: encodeMeta(next) })
      }
      if (ops.length === 0) return
      await this.#db.batch(ops, { sync: this.#sync })
      this.#heads.set(doc, next)
    })
  }

  async compact(doc: string, snapshot: Uint8Array): Promise<void> {
    const prefix = this.#prefix(doc)
    await this.#guard(async () => {
      const ops: Op[] = [{ type: 'put', key: `${prefix}snapshot`, value: snapshot }]
      // Sequence numbers go on from `nextSeq` in the meta key, which outlives the log.
      for await (const key of this.#db.keys(section(prefix, 'log'))) ops.push({ type: 'del', key })
      await this.#db.batch(ops, { sync: this.#sync })
    })
  }

  async clear(doc: string): Promise<void> {
    const prefix = this.#prefix(doc)
    await this.#guard(async () => {
      const ops: Op[] = []
      // ';' follows ':', so this range is exactly the keys starting with the prefix.
      const range = { gte: prefix, lt: `${prefix.slice(0, -1)};` }
      for await (const key of this.#db.keys(range)) ops.push({ type: 'del', key })
      this.#heads.delete(doc)
      if (ops.length > 0) await this.#db.batch(ops, { sync: this.#sync })
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#heads.clear()
    await this.#db.close()
  }

  async #readHead(prefix: string, doc: string): Promise<DocHead> {
    const meta = parseMeta(await this.#db.get(`${prefix}meta`), doc)
    let lastSeq = 0
    for await (const key of this.#db.keys({ ...section(prefix, 'log'), reverse: true, limit: 1 }))
      lastSeq = numberAtEnd(key)
    return { nextSeq: Math.max(meta.nextSeq, lastSeq + 1), lastRef: meta.lastRef }
  }

  /** The key prefix of `doc`; throws `CLOSED` once closed, so every call checks it first. */
  #prefix(doc: string): string {
    if (this.#closed) throw new WeftError('CLOSED', 'the level local store is closed')
    try {
      return `v1:doc:${encodeURIComponent(doc)}:`
    } catch (cause) {
      throw new WeftError('INVALID_ARGUMENT', 'document name is not well-formed Unicode', { cause })
    }
  }

  /** Runs a database operation, reporting its failures as `STORAGE_FAILED` (or `CLOSED`). */
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

const checkFormat = async (db: Db, location: string): Promise<void> => {
  const format = await db.get(FORMAT_KEY)
  if (format === undefined) {
    for await (const key of db.keys({ limit: 1 })) {
      throw new WeftError(
        'STORAGE_FAILED',
        `"${location}" holds data that is not a Weft local store (no ${FORMAT_KEY} key, found "${key}"). Use another location.`,
      )
    }
    await db.put(FORMAT_KEY, textEncoder.encode(FORMAT_VALUE), { sync: true })
  } else if (textDecoder.decode(format) !== FORMAT_VALUE) {
    throw new WeftError(
      'STORAGE_FAILED',
      `"${location}" holds layout "${textDecoder.decode(format)}", expected "${FORMAT_VALUE}": it was ` +
        'written by another program or a newer version. Use another location.',
    )
  }
}

/** Iterator range of one section (`log` or `outbox`) of a document. */
const section = (prefix: string, name: string): { gt: string; lt: string } => ({
  gt: `${prefix}${name}:`,
  lt: `${prefix}${name};`,
})

const pad = (value: number): string => String(value).padStart(NUMBER_DIGITS, '0')

const numberAtEnd = (key: string): number => Number(key.slice(-NUMBER_DIGITS))

const isRef = (ref: unknown): ref is number =>
  typeof ref === 'number' && Number.isSafeInteger(ref) && ref >= 0

const encodeMeta = (head: DocHead): Uint8Array =>
  textEncoder.encode(JSON.stringify({ lastRef: head.lastRef, nextSeq: head.nextSeq }))

const parseMeta = (bytes: Uint8Array | undefined, doc: string): DocHead => {
  if (bytes === undefined) return { nextSeq: 1, lastRef: 0 }
  let parsed: unknown
  try {
    parsed = JSON.parse(textDecoder.decode(bytes))
  } catch (cause) {
    throw new WeftError('STORAGE_FAILED', `the metadata of "${doc}" is corrupt`, { cause })
  }
  const { lastRef, nextSeq } = (parsed ?? {}) as Partial<Record<keyof DocHead, unknown>>
  if (!isRef(lastRef) || !isRef(nextSeq)) {
    throw new WeftError('STORAGE_FAILED', `the metadata of "${doc}" is corrupt`)
  }
  return { nextSeq, lastRef }
}
