/**
 * The change feed's rows: writing changes at the next positions (inside the transaction that
 * stores what they record), reading a page, pruning by age. The feed's head row is locked by
 * each writing transaction until it commits, so positions are consecutive in commit order
 * across every relay sharing the database.
 */
import type { FeedChange, FeedEntry, FeedPage } from '@weft/server/store'
import type pg from 'pg'
import { feedAddress } from './addresses.js'

/** The changes of one append or deletion of document `name`. */
export interface FeedWrite {
  readonly name: string
  readonly changes: readonly FeedChange[]
}

/** Sealing and opening of feed values. */
export interface FeedContext {
  readonly schema: string
  readonly seal: (address: string, plain: Uint8Array) => Uint8Array
}

/** Most entries one pruning removes; the next call goes on. */
const PRUNE_BATCH = 10_000

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

/** Writes `writes` (in order) at the next feed positions and document sequences. */
export const writeFeed = async (
  client: pg.PoolClient,
  { schema, seal }: FeedContext,
  writes: readonly FeedWrite[],
): Promise<void> => {
  const counts = new Map<string, number>()
  let total = 0
  for (const { name, changes } of writes) {
    counts.set(name, (counts.get(name) ?? 0) + changes.length)
    total += changes.length
  }
  const names = [...counts.keys()].sort()
  const { rows: seqRows } = await client.query<{ doc: string; seq: string }>(
    `INSERT INTO ${schema}.feed_seqs AS f (doc, seq)
     SELECT doc, n FROM unnest($1::text[], $2::bigint[]) AS u(doc, n) ORDER BY doc COLLATE "C"
     ON CONFLICT (doc) DO UPDATE SET seq = f.seq + excluded.seq
     RETURNING doc, seq`,
    [names, names.map((name) => counts.get(name) ?? 0)],
  )
  const nextSeq = new Map<string, number>()
  for (const row of seqRows) nextSeq.set(row.doc, Number(row.seq) - (counts.get(row.doc) ?? 0) + 1)
  const { rows: metaRows } = await client.query<{ head: string }>(
    `UPDATE ${schema}.feed_meta SET head = head + $1 WHERE id = 1 RETURNING head`,
    [total],
  )
  let position = Number(metaRows[0]?.head ?? total) - total
  const positions: number[] = []
  const times: number[] = []
  const values: Buffer[] = []
  for (const { name, changes } of writes) {
    for (const change of changes) {
      position += 1
      const seq = nextSeq.get(name) ?? 1
      nextSeq.set(name, seq + 1)
      const entry: FeedEntry = { ...change, position, doc: name, seq }
      const sealed = seal(feedAddress(position), textEncoder.encode(JSON.stringify(entry)))
      positions.push(position)
      times.push(Math.floor(change.receivedAtMs))
      values.push(Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength))
    }
  }
  await client.query(
    `INSERT INTO ${schema}.feed (position, received_at_ms, entry)
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[])`,
    [positions, times, values],
  )
}

/** Up to `limit` entries after `after`, and where the feed stands (read in one snapshot). */
export const readFeedPage = async (
  client: pg.PoolClient,
  schema: string,
  open: (address: string, value: Uint8Array) => Uint8Array,
  after: number,
  limit: number,
): Promise<FeedPage> => {
  const { rows } = await client.query<{ position: string; entry: Buffer }>(
    `SELECT position, entry FROM ${schema}.feed WHERE position > $1 ORDER BY position LIMIT $2`,
    [after, limit],
  )
  const entries = rows.map(
    (row) =>
      JSON.parse(
        textDecoder.decode(open(feedAddress(Number(row.position)), row.entry)),
      ) as FeedEntry,
  )
  const { rows: meta } = await client.query<{ head: string; pruned_through: string }>(
    `SELECT head, pruned_through FROM ${schema}.feed_meta WHERE id = 1`,
  )
  const head = Math.max(Number(meta[0]?.head ?? 0), entries.at(-1)?.position ?? 0)
  return { entries, head, prunedThrough: Number(meta[0]?.pruned_through ?? 0) }
}

/** Removes entries received before `cutoffMs`, oldest first, up to the first newer one. */
export const pruneFeedRows = async (
  client: pg.PoolClient,
  schema: string,
  cutoffMs: number,
): Promise<number> => {
  const { rows: meta } = await client.query<{ pruned_through: string }>(
    `SELECT pruned_through FROM ${schema}.feed_meta WHERE id = 1 FOR UPDATE`,
  )
  const { rows } = await client.query<{ position: string; received_at_ms: string }>(
    `SELECT position, received_at_ms FROM ${schema}.feed
     WHERE position > $1 ORDER BY position LIMIT $2`,
    [Number(meta[0]?.pruned_through ?? 0), PRUNE_BATCH],
  )
  let through = 0
  let removed = 0
  for (const row of rows) {
    if (Number(row.received_at_ms) >= cutoffMs) break
    through = Number(row.position)
    removed += 1
  }
  if (removed === 0) return 0
  await client.query(`DELETE FROM ${schema}.feed WHERE position <= $1`, [through])
  await client.query(`UPDATE ${schema}.feed_meta SET pruned_through = $1 WHERE id = 1`, [through])
  return removed
}
