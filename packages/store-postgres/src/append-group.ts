/**
 * writeAppendGroup: one group of appends — from any documents — in the transaction it is given:
 * each document's head advanced once for all its appends, the records inserted with one
 * statement, and the feed entries given the next positions. Row locks order concurrent relays:
 * document rows in name order, then the feed's sequences, then its head.
 */
import type { AppendEntry, FeedChange } from '@weft/server/store'
import type pg from 'pg'
import { recordAddress } from './addresses.js'
import { encodeLogRecord, newestReceivedAtMs } from '@weft/server/store'
import { writeFeed, type FeedWrite } from './feed.js'

/** One append call. `seq` is set once its transaction has numbered it. */
export interface AppendJob {
  readonly alone: false
  readonly bytes: number
  readonly name: string
  readonly entries: readonly AppendEntry[]
  readonly changes: readonly FeedChange[]
  seq: number
}

/** What the writer needs from the store. */
export interface AppendContext {
  readonly schema: string
  readonly keepFeed: boolean
  readonly seal: (address: string, plain: Uint8Array) => Uint8Array
}

/** Bumps each document's head by its number of appends; resolves with the new heads. */
const advanceHeads = async (
  client: pg.PoolClient,
  schema: string,
  jobs: readonly AppendJob[],
): Promise<Map<string, number>> => {
  const counts = new Map<string, number>()
  for (const job of jobs) counts.set(job.name, (counts.get(job.name) ?? 0) + 1)
  // Sorted, so two relays writing the same documents lock their rows in the same order.
  const names = [...counts.keys()].sort()
  const { rows } = await client.query<{ name: string; head_seq: string }>(
    `INSERT INTO ${schema}.docs AS d (name, head_seq)
     SELECT name, n FROM unnest($1::text[], $2::bigint[]) AS u(name, n) ORDER BY name
     ON CONFLICT (name) DO UPDATE SET head_seq = d.head_seq + excluded.head_seq
     RETURNING name, head_seq`,
    [names, names.map((name) => counts.get(name) ?? 0)],
  )
  const firsts = new Map<string, number>()
  for (const row of rows)
    firsts.set(row.name, Number(row.head_seq) - (counts.get(row.name) ?? 0) + 1)
  return firsts
}

/** Numbers, seals and inserts every job's record, and writes their feed changes. */
export const writeAppendGroup = async (
  client: pg.PoolClient,
  context: AppendContext,
  jobs: readonly AppendJob[],
): Promise<void> => {
  const next = await advanceHeads(client, context.schema, jobs)
  const docs: string[] = []
  const seqs: number[] = []
  const times: number[] = []
  const records: Buffer[] = []
  const feed: FeedWrite[] = []
  for (const job of jobs) {
    const seq = next.get(job.name) ?? 1
    next.set(job.name, seq + 1)
    job.seq = seq
    const sealed = context.seal(recordAddress(job.name, seq), encodeLogRecord(job.entries))
    docs.push(job.name)
    seqs.push(seq)
    times.push(Math.max(0, Math.floor(newestReceivedAtMs(job.entries))))
    records.push(Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength))
    if (context.keepFeed && job.changes.length > 0)
      feed.push({ name: job.name, changes: job.changes })
  }
  await client.query(
    `INSERT INTO ${context.schema}.records (doc, seq, received_at_ms, record)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bytea[])`,
    [docs, seqs, times, records],
  )
  if (feed.length > 0) await writeFeed(client, context, feed)
}
