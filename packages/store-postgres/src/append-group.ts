/**
 * writeAppendGroup: one group of appends — from any documents — in the transaction it is given:
 * each document's head advanced once for all its appends, the records inserted with one
 * statement, and the feed entries given the next positions. Row locks order concurrent relays:
 * document rows in name order, then the feed's sequences, then its head.
 */
import { WeftError } from '@weft/protocol'
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
  /** The document's incarnation the caller loaded, if it requires it (see `AppendOptions`). */
  readonly incarnation: string | undefined
  seq: number
  /** Set when the job's document is no longer the one it requires: nothing was written. */
  refused: WeftError | null
  /** The incarnation the record was written under, once written. */
  written: string | null
}

/** What the writer needs from the store. */
export interface AppendContext {
  readonly schema: string
  readonly keepFeed: boolean
  readonly seal: (address: string, plain: Uint8Array) => Uint8Array
}

/**
 * Bumps each document's head by its number of appends (creating its row, and so its incarnation,
 * if it has none); resolves with each document's first new sequence number and incarnation.
 */
const advanceHeads = async (
  client: pg.PoolClient,
  schema: string,
  jobs: readonly AppendJob[],
): Promise<Map<string, { seq: number; incarnation: string }>> => {
  const counts = new Map<string, number>()
  for (const job of jobs) counts.set(job.name, (counts.get(job.name) ?? 0) + 1)
  // Locked in the order of the "C" collation of the `docs` key, whatever the database's locale,
  // so two relays writing the same documents (and `checkIncarnations`) take rows in one order.
  const names = [...counts.keys()]
  const { rows } = await client.query<{ name: string; head_seq: string; incarnation: string }>(
    `INSERT INTO ${schema}.docs AS d (name, head_seq)
     SELECT name, n FROM unnest($1::text[], $2::bigint[]) AS u(name, n) ORDER BY name COLLATE "C"
     ON CONFLICT (name) DO UPDATE SET head_seq = d.head_seq + excluded.head_seq
     RETURNING name, head_seq, incarnation`,
    [names, names.map((name) => counts.get(name) ?? 0)],
  )
  const firsts = new Map<string, { seq: number; incarnation: string }>()
  for (const row of rows) {
    const seq = Number(row.head_seq) - (counts.get(row.name) ?? 0) + 1
    firsts.set(row.name, { seq, incarnation: row.incarnation })
  }
  return firsts
}

/**
 * Locks the rows of the documents whose jobs require an incarnation and refuses the jobs of
 * those deleted (or deleted and created again) since: their appends must not recreate a
 * document from what a relay still held of the old one. Resolves with the jobs to write.
 */
const checkIncarnations = async (
  client: pg.PoolClient,
  schema: string,
  jobs: readonly AppendJob[],
): Promise<readonly AppendJob[]> => {
  const names = [
    ...new Set(jobs.flatMap((job) => (job.incarnation === undefined ? [] : [job.name]))),
  ]
  if (names.length === 0) return jobs
  // Locked in name order, as `advanceHeads` does after it: concurrent groups cannot deadlock.
  const { rows } = await client.query<{ name: string; incarnation: string }>(
    `SELECT name, incarnation FROM ${schema}.docs WHERE name = ANY($1::text[])
     ORDER BY name FOR UPDATE`,
    [names.sort()],
  )
  const stored = new Map(rows.map((row) => [row.name, row.incarnation]))
  return jobs.filter((job) => {
    if (job.incarnation === undefined || stored.get(job.name) === job.incarnation) return true
    job.refused = new WeftError(
      'DOC_DELETED',
      `document "${job.name}" was deleted since it was loaded; open it again`,
    )
    return false
  })
}

/** Numbers, seals and inserts every job's record, and writes their feed changes. */
export const writeAppendGroup = async (
  client: pg.PoolClient,
  context: AppendContext,
  group: readonly AppendJob[],
): Promise<void> => {
  const jobs = await checkIncarnations(client, context.schema, group)
  if (jobs.length === 0) return
  const next = await advanceHeads(client, context.schema, jobs)
  const docs: string[] = []
  const seqs: number[] = []
  const times: number[] = []
  const records: Buffer[] = []
  const feed: FeedWrite[] = []
  for (const job of jobs) {
    const head = next.get(job.name)
    if (head === undefined) throw new Error(`no head was advanced for "${job.name}"`)
    const seq = head.seq
    head.seq += 1
    job.seq = seq
    job.written = head.incarnation
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
