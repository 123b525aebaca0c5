/**
 * compactDoc: one compaction in the transaction it is given. It first takes the document's
 * compaction lock (a transaction-scoped advisory lock): while another relay compacts the
 * document, this one skips at once instead of waiting to find its snapshot stale. Then the
 * document's row is locked (`FOR UPDATE`), which orders it with appends; a compaction that is not
 * ahead of the stored one (its `throughSeq` at or below
 * `compacted_through`, or beyond the head) changes nothing, so a stale snapshot never replaces a
 * newer one and no update appended after `throughSeq` is lost. With a history window, folded
 * records stay as history, and those that left the window are merged into the history base.
 */
import { foldUpdates } from '@weft/doc'
import type pg from 'pg'
import { histBaseAddress, recordAddress, snapshotAddress } from './addresses.js'
import { decodeLogRecord } from '@weft/server/store'

/** What compaction needs from the store. */
export interface CompactContext {
  readonly schema: string
  readonly historyMs: number
  readonly seal: (address: string, plain: Uint8Array) => Uint8Array
  readonly open: (address: string, value: Uint8Array) => Uint8Array
}

/** First key of the compaction locks ("wefw"); the second is the hash of schema and name. */
export const COMPACTION_LOCK = 0x77656677

/** Rows read per page while folding records into the history base. */
const PAGE_ROWS = 500

interface DocRow {
  head_seq: string
  compacted_through: string
  snapshot: Buffer | null
  hist_base: Buffer | null
}

const toBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/**
 * Compacts `name` through `throughSeq`; resolves with whether it did (false: another compaction
 * of the document runs, or this one is stale: skipped).
 */
export const compactDoc = async (
  client: pg.PoolClient,
  context: CompactContext,
  name: string,
  snapshot: Uint8Array,
  throughSeq: number,
): Promise<boolean> => {
  const s = context.schema
  // A hash collision with another document only makes one of them skip until its next turn.
  const locked = await client.query<{ held: boolean }>(
    'SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS held',
    [COMPACTION_LOCK, `${s}.${name}`],
  )
  if (locked.rows[0]?.held !== true) return false
  const { rows } = await client.query<DocRow>(
    `SELECT head_seq, compacted_through, snapshot, hist_base FROM ${s}.docs
     WHERE name = $1 FOR UPDATE`,
    [name],
  )
  const row = rows[0]
  if (row === undefined) return false
  const compactedThrough = Number(row.compacted_through)
  if (throughSeq <= compactedThrough || throughSeq > Number(row.head_seq)) return false
  let histBase: Uint8Array | null = null
  if (context.historyMs === 0) {
    await client.query(`DELETE FROM ${s}.records WHERE doc = $1 AND seq <= $2`, [name, throughSeq])
  } else {
    histBase = await foldHistory(client, context, name, row, throughSeq)
  }
  const sealed = context.seal(snapshotAddress(name), snapshot)
  await client.query(
    `UPDATE ${s}.docs SET snapshot = $2, compacted_through = $3, compacted_at_ms = $4,
       hist_base = coalesce($5, hist_base)
     WHERE name = $1`,
    [
      name,
      toBuffer(sealed),
      throughSeq,
      Date.now(),
      histBase === null ? null : toBuffer(context.seal(histBaseAddress(name), histBase)),
    ],
  )
  return true
}

/**
 * Removes the records up to `throughSeq` older than the window — the oldest first, up to the
 * first one inside it — and returns the new history base holding them (null: unchanged).
 */
const foldHistory = async (
  client: pg.PoolClient,
  context: CompactContext,
  name: string,
  row: DocRow,
  throughSeq: number,
): Promise<Uint8Array | null> => {
  const s = context.schema
  const cutoff = Date.now() - context.historyMs
  const { rows: stops } = await client.query<{ seq: string | null }>(
    `SELECT min(seq) AS seq FROM ${s}.records
     WHERE doc = $1 AND seq <= $2 AND received_at_ms >= $3`,
    [name, throughSeq, cutoff],
  )
  const stop = stops[0]?.seq
  const pruneThrough = stop === null || stop === undefined ? throughSeq : Number(stop) - 1
  // The state before the oldest record kept: the stored base, or — when history starts now,
  // after compactions that kept none — the snapshot those left.
  const parts: Uint8Array[] = []
  let baseIsNew = false
  if (row.hist_base !== null) {
    parts.push(context.open(histBaseAddress(name), row.hist_base))
  } else if (row.snapshot !== null && Number(row.compacted_through) > 0) {
    const { rows: kept } = await client.query(
      `SELECT 1 FROM ${s}.records WHERE doc = $1 AND seq <= $2 LIMIT 1`,
      [name, Number(row.compacted_through)],
    )
    if (kept.length === 0) {
      parts.push(context.open(snapshotAddress(name), row.snapshot))
      baseIsNew = true
    }
  }
  let pruned = 0
  for (let after = 0; after < pruneThrough;) {
    const { rows: page } = await client.query<{ seq: string; record: Buffer }>(
      `SELECT seq, record FROM ${s}.records WHERE doc = $1 AND seq > $2 AND seq <= $3
       ORDER BY seq LIMIT $4`,
      [name, after, pruneThrough, PAGE_ROWS],
    )
    if (page.length === 0) break
    for (const record of page) {
      after = Number(record.seq)
      for (const entry of decodeLogRecord(context.open(recordAddress(name, after), record.record)))
        parts.push(entry.update)
      pruned += 1
    }
  }
  if (pruned > 0)
    await client.query(`DELETE FROM ${s}.records WHERE doc = $1 AND seq <= $2`, [
      name,
      pruneThrough,
    ])
  return pruned > 0 || baseIsNew ? foldUpdates(parts) : null
}
