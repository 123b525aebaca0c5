/** listDocs: every document's summary, read a page of documents at a time. */
import type { DocSummary } from '@weft/server/store'
import type pg from 'pg'

/** Documents summarized per query. */
const PAGE_DOCS = 1000

interface SummaryRow {
  name: string
  snapshot_bytes: number | null
  compacted_at_ms: string | null
  log_records: string
  log_bytes: string | null
  last_received_at_ms: string | null
}

/**
 * Every document with its snapshot's and log's stored sizes, its log length, its last write
 * (the newest receive time of its last log record, else its last compaction) and its snapshot's
 * time. Sizes are of the stored values (sealed, if encrypted); `octet_length` reads them from
 * the column headers without fetching the values.
 */
export const listDocs = async (client: pg.PoolClient, schema: string): Promise<DocSummary[]> => {
  const docs: DocSummary[] = []
  for (let after: string | null = null; ;) {
    const { rows }: { rows: SummaryRow[] } = await client.query<SummaryRow>(
      `SELECT d.name, octet_length(d.snapshot) AS snapshot_bytes, d.compacted_at_ms,
         l.log_records, l.log_bytes, last.received_at_ms AS last_received_at_ms
       FROM ${schema}.docs d
       CROSS JOIN LATERAL (
         SELECT count(*) AS log_records, sum(octet_length(r.record)) AS log_bytes
         FROM ${schema}.records r WHERE r.doc = d.name AND r.seq > d.compacted_through
       ) l
       LEFT JOIN LATERAL (
         SELECT r.received_at_ms FROM ${schema}.records r
         WHERE r.doc = d.name AND r.seq > d.compacted_through ORDER BY r.seq DESC LIMIT 1
       ) last ON true
       WHERE $1::text IS NULL OR d.name > $1
       ORDER BY d.name LIMIT $2`,
      [after, PAGE_DOCS],
    )
    for (const row of rows) {
      const compactedAtMs = row.compacted_at_ms === null ? null : Number(row.compacted_at_ms)
      const snapshotBytes = row.snapshot_bytes ?? 0
      docs.push({
        name: row.name,
        snapshotBytes,
        logBytes: Number(row.log_bytes ?? 0),
        logRecords: Number(row.log_records),
        lastWriteAtMs:
          row.last_received_at_ms === null ? compactedAtMs : Number(row.last_received_at_ms),
        snapshotAtMs: snapshotBytes > 0 ? compactedAtMs : null,
      })
      after = row.name
    }
    if (rows.length < PAGE_DOCS) return docs
  }
}
