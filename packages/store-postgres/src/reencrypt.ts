/**
 * reencryptRows: rewrites a PostgresStore's sealed values under the keyring's newest key — every
 * document's snapshot, history base and log records, then the change feed, then the state
 * records — one bounded batch (one transaction) at a time, while relays go on writing.
 *
 * Every value a batch rewrites is read under a row lock and written back before its COMMIT, so a
 * concurrent append, compaction, deletion or state write either commits first (and the batch
 * reads its result) or waits for the batch (and writes over the rewritten value): nothing is lost
 * and nothing stale written back. A document's records are covered by its `docs` row lock, which
 * every append, compaction and deletion of the document takes first. Rows are taken with
 * {@link lockNextRows}, which waits only while the batch holds nothing, so a batch never deadlocks
 * with a relay's transaction.
 */
import {
  resolveReencryptLimits,
  sealedKeyId,
  type Keyring,
  type ReencryptOptions,
  type ReencryptResult,
} from '@weft/server/store'
import type pg from 'pg'
import {
  feedAddress,
  histBaseAddress,
  recordAddress,
  snapshotAddress,
  stateAddress,
} from './addresses.js'
import { lockNextRows, type KeyedTable, type RowStart } from './row-locks.js'

/** What {@link reencryptRows} needs from the store. */
export interface ReencryptContext {
  readonly schema: string
  readonly keyring: Keyring
  /** Opens a stored value (as the store reads it) and seals a plaintext under the newest key. */
  readonly open: (address: string, value: Uint8Array) => Uint8Array
  readonly seal: (address: string, plain: Uint8Array) => Uint8Array
  /** Runs `work` in a write transaction of the store, in order with its other writes. */
  readonly write: (work: (client: pg.PoolClient) => Promise<void>) => Promise<void>
}

/**
 * A document's values in order: its snapshot, its history base, then its records by sequence
 * (1, 2, …). `through` is the last one a batch did; `BEFORE_SNAPSHOT` none.
 */
const BEFORE_SNAPSHOT = -2
const SNAPSHOT = -1
const HIST_BASE = 0

/**
 * Where the walk stands: in `docs`, within document `doc` (the life of it that `incarnation`
 * names), through its value `through` (null: all of them); or in `feed` or `state`.
 */
type Cursor =
  | {
      readonly table: 'docs'
      readonly doc: string | null
      readonly incarnation: string | null
      readonly through: number | null
    }
  | { readonly table: 'feed' | 'state'; readonly start: RowStart }
  | { readonly table: 'done' }

/** One batch's bounds and counts: the values and bytes it read, the values it rewrote. */
class Batch {
  readonly #context: ReencryptContext
  readonly #limits: { maxBatchValues: number; maxBatchBytes: number }
  scanned = 0
  rewritten = 0
  bytes = 0

  constructor(
    context: ReencryptContext,
    limits: { maxBatchValues: number; maxBatchBytes: number },
  ) {
    this.#context = context
    this.#limits = limits
  }

  get full(): boolean {
    return this.valuesLeft <= 0 || this.bytesLeft <= 0
  }

  get valuesLeft(): number {
    return this.#limits.maxBatchValues - this.scanned
  }

  get bytesLeft(): number {
    return this.#limits.maxBatchBytes - this.bytes
  }

  /** Reads one stored value: its rewrite under the newest key, or null when it is under it. */
  take(address: string, value: Uint8Array): Buffer | null {
    this.scanned += 1
    this.bytes += value.length
    if (sealedKeyId(value) === this.#context.keyring.currentId) return null
    this.rewritten += 1
    const sealed = this.#context.seal(address, this.#context.open(address, value))
    return Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength)
  }
}

/**
 * Rewrites every value not under the newest key (plaintext ones included) under it. Checks the
 * options first (`INVALID_ARGUMENT`); stops between batches once `signal` is aborted
 * (`complete: false`). A value no key opens rejects with `DECRYPTION_FAILED`, earlier batches
 * staying committed.
 */
export const reencryptRows = async (
  context: ReencryptContext,
  options: ReencryptOptions,
): Promise<ReencryptResult> => {
  const limits = resolveReencryptLimits(options, 'PostgresStore.reencrypt')
  let cursor: Cursor = { table: 'docs', doc: null, incarnation: null, through: null }
  let totals = { scanned: 0, rewritten: 0, batches: 0 }
  while (cursor.table !== 'done') {
    if (options.signal?.aborted === true) return { ...totals, complete: false }
    const from: Exclude<Cursor, { table: 'done' }> = cursor
    const batch = new Batch(context, limits)
    const step: { next: Cursor } = { next: from }
    await context.write(async (client) => {
      step.next =
        from.table === 'docs'
          ? await docsBatch(client, context, batch, from)
          : await rowsBatch(client, context, batch, from)
    })
    cursor = step.next
    if (batch.scanned === 0) continue
    totals = {
      scanned: totals.scanned + batch.scanned,
      rewritten: totals.rewritten + batch.rewritten,
      batches: totals.batches + 1,
    }
    options.onBatch?.({ ...totals, complete: false })
  }
  return { ...totals, complete: true }
}

interface DocRow {
  incarnation: string
  snapshot: Buffer | null
  hist_base: Buffer | null
}

/** The values a batch rewrote, written back in its transaction before it commits. */
class Rewrites {
  readonly #docs = new Map<string, { snapshot: Buffer | null; base: Buffer | null }>()
  readonly #records = { docs: [] as string[], seqs: [] as number[], values: [] as Buffer[] }

  rowValue(name: string, column: 'snapshot' | 'base', value: Buffer | null): void {
    if (value === null) return
    const row = this.#docs.get(name) ?? { snapshot: null, base: null }
    row[column] = value
    this.#docs.set(name, row)
  }

  record(name: string, seq: number, value: Buffer | null): void {
    if (value === null) return
    this.#records.docs.push(name)
    this.#records.seqs.push(seq)
    this.#records.values.push(value)
  }

  async write(client: pg.PoolClient, schema: string): Promise<void> {
    if (this.#docs.size > 0) {
      const rows = [...this.#docs]
      await client.query(
        `UPDATE ${schema}.docs d SET snapshot = coalesce(u.snapshot, d.snapshot),
           hist_base = coalesce(u.hist_base, d.hist_base)
         FROM unnest($1::text[], $2::bytea[], $3::bytea[]) AS u(name, snapshot, hist_base)
         WHERE d.name = u.name`,
        [
          rows.map(([name]) => name),
          rows.map(([, row]) => row.snapshot),
          rows.map(([, row]) => row.base),
        ],
      )
    }
    if (this.#records.docs.length > 0) {
      const { docs, seqs, values } = this.#records
      await client.query(
        `UPDATE ${schema}.records r SET record = u.record
         FROM unnest($1::text[], $2::bigint[], $3::bytea[]) AS u(doc, seq, record)
         WHERE r.doc = u.doc AND r.seq = u.seq`,
        [docs, seqs, values],
      )
    }
  }
}

const docsTable = (schema: string): KeyedTable => ({
  table: `${schema}.docs`,
  key: 'name',
  keyType: 'text',
  columns: 'incarnation::text AS incarnation, snapshot, hist_base',
  bytes: 'coalesce(octet_length(snapshot), 0) + coalesce(octet_length(hist_base), 0)',
})

/**
 * One batch of documents, from where `cursor` stands: each locked document's snapshot, history
 * base and records, until the batch is full. Moves on to the feed once no document is left.
 */
const docsBatch = async (
  client: pg.PoolClient,
  context: ReencryptContext,
  batch: Batch,
  cursor: Extract<Cursor, { table: 'docs' }>,
): Promise<Cursor> => {
  const start: RowStart =
    cursor.doc === null ? null : { key: cursor.doc, inclusive: cursor.through !== null }
  const { rows, exhausted } = await lockNextRows<DocRow>(
    client,
    docsTable(context.schema),
    start,
    { maxRows: batch.valuesLeft, maxBytes: batch.bytesLeft },
    true,
  )
  if (exhausted) return { table: 'feed', start: null }
  const rewrites = new Rewrites()
  let next: Cursor = cursor
  for (const row of rows) {
    if (batch.full) break
    // Where the walk was inside this document; one deleted (and created again) since starts anew.
    const sameLife = row.key === cursor.doc && row.incarnation === cursor.incarnation
    const through = sameLife ? (cursor.through ?? BEFORE_SNAPSHOT) : BEFORE_SNAPSHOT
    next = {
      table: 'docs',
      doc: row.key,
      incarnation: row.incarnation,
      through: await docValues(client, context.schema, batch, rewrites, row, through),
    }
  }
  await rewrites.write(client, context.schema)
  return next
}

/**
 * Reads document `row.key`'s values after `through` into `batch` while it has room; resolves
 * with the last one read, or null once none is left.
 */
const docValues = async (
  client: pg.PoolClient,
  schema: string,
  batch: Batch,
  rewrites: Rewrites,
  row: DocRow & { key: string },
  through: number,
): Promise<number | null> => {
  const name = row.key
  if (through < SNAPSHOT && row.snapshot !== null) {
    rewrites.rowValue(name, 'snapshot', batch.take(snapshotAddress(name), row.snapshot))
    if (batch.full) return SNAPSHOT
  }
  if (through < HIST_BASE && row.hist_base !== null) {
    rewrites.rowValue(name, 'base', batch.take(histBaseAddress(name), row.hist_base))
    if (batch.full) return HIST_BASE
  }
  let seq = Math.max(through, HIST_BASE)
  while (!batch.full) {
    const want = batch.valuesLeft
    // A page of records, ending with the one whose bytes reach the batch's remaining bytes.
    const { rows } = await client.query<{ seq: string; record: Buffer }>(
      `SELECT seq, record FROM (
         SELECT seq, record, sum(octet_length(record)) OVER (ORDER BY seq) - octet_length(record)
           AS before
         FROM ${schema}.records WHERE doc = $1 AND seq > $2 ORDER BY seq LIMIT $3
       ) page WHERE before < $4 ORDER BY seq`,
      [name, seq, want, batch.bytesLeft],
    )
    for (const record of rows) {
      seq = Number(record.seq)
      rewrites.record(name, seq, batch.take(recordAddress(name, seq), record.record))
    }
    if (batch.full) return seq
    if (rows.length < want) return null
  }
  return seq
}

/** A table of single sealed values: the change feed, the state records. */
interface SealedTable extends KeyedTable {
  readonly column: string
  readonly address: (key: string) => string
}

const sealedTables = (schema: string): Record<'feed' | 'state', SealedTable> => ({
  feed: {
    table: `${schema}.feed`,
    key: 'position',
    keyType: 'bigint',
    column: 'entry',
    columns: 'entry AS value',
    bytes: 'octet_length(entry)',
    address: (key) => feedAddress(Number(key)),
  },
  state: {
    table: `${schema}.state`,
    key: 'key',
    keyType: 'text',
    column: 'value',
    columns: 'value',
    bytes: 'octet_length(value)',
    address: stateAddress,
  },
})

/** One batch of feed entries or state records; moves on to the next table once none is left. */
const rowsBatch = async (
  client: pg.PoolClient,
  context: ReencryptContext,
  batch: Batch,
  cursor: Extract<Cursor, { table: 'feed' | 'state' }>,
): Promise<Cursor> => {
  const table = sealedTables(context.schema)[cursor.table]
  const { rows, exhausted } = await lockNextRows<{ value: Buffer }>(
    client,
    table,
    cursor.start,
    { maxRows: batch.valuesLeft, maxBytes: batch.bytesLeft },
    true,
  )
  if (exhausted)
    return cursor.table === 'feed' ? { table: 'state', start: null } : { table: 'done' }
  const keys: string[] = []
  const values: Buffer[] = []
  let start = cursor.start
  for (const row of rows) {
    const sealed = batch.take(table.address(row.key), row.value)
    if (sealed !== null) {
      keys.push(row.key)
      values.push(sealed)
    }
    start = { key: row.key, inclusive: false }
  }
  if (keys.length > 0) {
    await client.query(
      `UPDATE ${table.table} t SET ${table.column} = u.value
       FROM unnest($1::${table.keyType}[], $2::bytea[]) AS u(key, value)
       WHERE t.${table.key} = u.key`,
      [keys, values],
    )
  }
  return { table: cursor.table, start }
}
