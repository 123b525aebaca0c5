/** The LevelLocalStore key layout (v2): key names, the meta codec, and the migration from v1. */
import { WeftError } from '@weft/protocol'
import type { Level } from 'level'

/** The database behind a LevelLocalStore: text keys, byte values. */
export type Db = Level<string, Uint8Array>

/** One operation of an atomic batch. */
export type Op = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string }

/** What a writer's `meta` key holds. */
export interface WriterHead {
  /** Sequence number of the writer's next log entry. */
  nextSeq: number
  /** The highest outbox ref the writer ever wrote for the document (0 when none). */
  lastRef: number
}

/** Everything one writer holds for one document, in key order. */
export interface WriterKeys {
  /** Every key of the writer for the document, whatever it holds. */
  readonly keys: string[]
  meta: Uint8Array | undefined
  snapshot: Uint8Array | undefined
  /** Log entries by ascending sequence number. */
  readonly log: Array<{ seq: number; value: Uint8Array }>
  /** Outbox records by ascending ref. */
  readonly outbox: Array<{ ref: number; value: Uint8Array }>
}

const FORMAT_KEY = 'v2:format'
const FORMAT_VALUE = 'weft-local-level-2'
const V1_FORMAT_KEY = 'v1:format'
const V1_FORMAT_VALUE = 'weft-local-level-1'
const NUMBER_DIGITS = 16
/** Writer ids are lowercase letters and digits only, so no id can contain a separator. */
const WRITER_ID = /^[a-z0-9]+$/
const NUMBERED = new RegExp(`^(log|outbox):\\d{${NUMBER_DIGITS}}$`)

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

/** True for a string that can name a writer namespace. */
export const isWriterId = (id: unknown): id is string =>
  typeof id === 'string' && WRITER_ID.test(id)

/** `v2:doc:<percent-encoded doc>:`, the prefix of every key of `doc`. */
export const docPrefix = (doc: string): string => {
  try {
    return `v2:doc:${encodeURIComponent(doc)}:`
  } catch (cause) {
    throw new WeftError('INVALID_ARGUMENT', 'document name is not well-formed Unicode', { cause })
  }
}

/** `<doc prefix>w:<writer>:`, the prefix of one writer's keys of a document. */
export const writerPrefix = (prefix: string, writerId: string): string => `${prefix}w:${writerId}:`

/** Iterator range of every key starting with `prefix` (which ends with `:`; `;` follows it). */
export const prefixRange = (prefix: string): { gte: string; lt: string } => ({
  gte: prefix,
  lt: `${prefix.slice(0, -1)};`,
})

/** Iterator range of one section (`log` or `outbox`) of a writer's keys. */
export const section = (prefix: string, name: 'log' | 'outbox'): { gt: string; lt: string } => ({
  gt: `${prefix}${name}:`,
  lt: `${prefix}${name};`,
})

/** Key of a log entry or outbox record: 16-digit zero-padded, so keys sort numerically. */
export const numberedKey = (prefix: string, name: 'log' | 'outbox', value: number): string =>
  `${prefix}${name}:${String(value).padStart(NUMBER_DIGITS, '0')}`

/** True for a valid outbox ref: a non-negative safe integer. */
export const isRef = (ref: unknown): ref is number =>
  typeof ref === 'number' && Number.isSafeInteger(ref) && ref >= 0

const emptyWriter = (): WriterKeys => ({
  keys: [],
  meta: undefined,
  snapshot: undefined,
  log: [],
  outbox: [],
})

/**
 * Reads every key under `prefix` (a document's or one writer's), grouped by writer id. A writer's
 * `keys` lists everything under its namespace, keys of no known kind included, so that removing
 * a namespace removes all of it. Keys outside any writer namespace are ignored.
 */
export const scanWriters = async (db: Db, prefix: string): Promise<Map<string, WriterKeys>> => {
  const docStart = prefix.slice(0, prefix.indexOf(':', 'v2:doc:'.length) + 1)
  const writers = new Map<string, WriterKeys>()
  for await (const [key, value] of db.iterator(prefixRange(prefix))) {
    const match = /^w:([a-z0-9]+):(.*)$/.exec(key.slice(docStart.length))
    if (match === null) continue
    const id = match[1]!
    const part = match[2]!
    let writer = writers.get(id)
    if (writer === undefined) writers.set(id, (writer = emptyWriter()))
    writer.keys.push(key)
    // `new Uint8Array(…)` copies Node's Buffers into plain arrays the caller owns.
    if (part === 'meta') writer.meta = new Uint8Array(value)
    else if (part === 'snapshot') writer.snapshot = new Uint8Array(value)
    else if (NUMBERED.test(part)) {
      const entry = { value: new Uint8Array(value), number: numberAtEnd(key) }
      if (part.startsWith('log:')) writer.log.push({ seq: entry.number, value: entry.value })
      else writer.outbox.push({ ref: entry.number, value: entry.value })
    }
  }
  return writers
}

const numberAtEnd = (key: string): number => Number(key.slice(-NUMBER_DIGITS))

/** The writer's head: its meta, with `nextSeq` past every log entry it holds. */
export const headOf = (writer: WriterKeys | undefined, doc: string): WriterHead => {
  const meta = parseMeta(writer?.meta, doc)
  const lastSeq = writer?.log.at(-1)?.seq ?? 0
  return { nextSeq: Math.max(meta.nextSeq, lastSeq + 1), lastRef: meta.lastRef }
}

/** Reads the head of one writer without reading its values. */
export const readHead = async (db: Db, prefix: string, doc: string): Promise<WriterHead> => {
  const meta = parseMeta(await db.get(`${prefix}meta`), doc)
  let lastSeq = 0
  for await (const key of db.keys({ ...section(prefix, 'log'), reverse: true, limit: 1 }))
    lastSeq = numberAtEnd(key)
  return { nextSeq: Math.max(meta.nextSeq, lastSeq + 1), lastRef: meta.lastRef }
}

/** The value of a writer's `meta` key. */
export const encodeMeta = (head: WriterHead): Uint8Array =>
  textEncoder.encode(JSON.stringify({ lastRef: head.lastRef, nextSeq: head.nextSeq }))

const parseMeta = (bytes: Uint8Array | undefined, doc: string): WriterHead => {
  if (bytes === undefined) return { nextSeq: 1, lastRef: 0 }
  let parsed: unknown
  try {
    parsed = JSON.parse(textDecoder.decode(bytes))
  } catch (cause) {
    throw new WeftError('STORAGE_FAILED', `the metadata of "${doc}" is corrupt`, { cause })
  }
  const { lastRef, nextSeq } = (parsed ?? {}) as Partial<Record<keyof WriterHead, unknown>>
  if (!isRef(lastRef) || !isRef(nextSeq)) {
    throw new WeftError('STORAGE_FAILED', `the metadata of "${doc}" is corrupt`)
  }
  return { nextSeq, lastRef }
}

/**
 * Checks the layout marker of a freshly opened database: writes it into an empty one, migrates
 * layout v1 (see {@link migrateFromV1}), refuses anything else with `STORAGE_FAILED`.
 */
export const prepareLayout = async (db: Db, location: string): Promise<void> => {
  const [format, v1Format] = await db.getMany([FORMAT_KEY, V1_FORMAT_KEY])
  if (format !== undefined) {
    if (textDecoder.decode(format) === FORMAT_VALUE) return
    throw wrongLayout(location, textDecoder.decode(format))
  }
  if (v1Format !== undefined) {
    if (textDecoder.decode(v1Format) !== V1_FORMAT_VALUE)
      throw wrongLayout(location, textDecoder.decode(v1Format))
    await migrateFromV1(db)
    return
  }
  for await (const key of db.keys({ limit: 1 })) {
    throw new WeftError(
      'STORAGE_FAILED',
      `"${location}" holds data that is not a Weft local store (no ${FORMAT_KEY} key, found "${key}"). Use another location.`,
    )
  }
  await db.put(FORMAT_KEY, textEncoder.encode(FORMAT_VALUE), { sync: true })
}

const wrongLayout = (location: string, found: string): WeftError =>
  new WeftError(
    'STORAGE_FAILED',
    `"${location}" holds layout "${found}", expected "${FORMAT_VALUE}": it was written by another ` +
      'program or a newer version. Use another location.',
  )

/**
 * Rewrites a layout-v1 store in one batch: `v1:doc:<name>:<rest>` becomes
 * `v2:doc:<name>:w:main:<rest>` (v1 had one writer; `main` is the id Node's single opener uses,
 * and in browsers a namespace nobody holds, which the first load of each document adopts) and
 * the marker becomes v2.
 */
export const migrateFromV1 = async (db: Db): Promise<void> => {
  const ops: Op[] = [
    { type: 'del', key: V1_FORMAT_KEY },
    { type: 'put', key: FORMAT_KEY, value: textEncoder.encode(FORMAT_VALUE) },
  ]
  for await (const [key, value] of db.iterator(prefixRange('v1:doc:'))) {
    const end = key.indexOf(':', 'v1:doc:'.length)
    // v1 wrote no such key; one without a document name is left alone rather than guessed at.
    if (end < 0) continue
    const name = key.slice('v1:doc:'.length, end)
    const rest = key.slice(end + 1)
    ops.push({ type: 'del', key })
    ops.push({ type: 'put', key: `v2:doc:${name}:w:main:${rest}`, value })
  }
  await db.batch(ops, { sync: true })
}
