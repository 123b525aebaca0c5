/** listDocs: one pass over every document's keys, summarized for operators. */
import type { DocSummary } from '@weft/server/store'
import { parseMeta } from './doc-meta.js'
import { docsRange, metaKey } from './keys.js'
import { decodeLogRecord, newestReceivedAtMs } from '@weft/server/store'
import type { StoreAccess } from './store-access.js'

/**
 * Every document the database holds, with the sizes of its snapshot and log, its log length,
 * its last write and its snapshot's time.
 */
export const listDocs = async ({ db, open }: StoreAccess): Promise<DocSummary[]> => {
  const docs = new Map<
    string,
    {
      snapshotBytes: number
      logBytes: number
      logRecords: number
      meta?: Uint8Array
      last?: [string, Uint8Array]
    }
  >()
  for await (const [key, value] of db.iterator(docsRange())) {
    const rest = key.slice('v1:doc:'.length)
    const separator = rest.indexOf(':')
    const name = decodeURIComponent(rest.slice(0, separator))
    const record = rest.slice(separator + 1)
    let doc = docs.get(name)
    if (doc === undefined) docs.set(name, (doc = { snapshotBytes: 0, logBytes: 0, logRecords: 0 }))
    if (record === 'snapshot') doc.snapshotBytes = value.length
    else if (record === 'meta') doc.meta = value
    else if (record.startsWith('log:')) {
      doc.logBytes += value.length
      doc.logRecords += 1
      doc.last = [key, value]
    }
  }
  return [...docs].map(([name, doc]) => {
    let lastWriteAtMs: number | null = null
    if (doc.last !== undefined) {
      const entries = decodeLogRecord(open(doc.last[0], doc.last[1]))
      lastWriteAtMs = newestReceivedAtMs(entries)
    } else if (doc.meta !== undefined) {
      lastWriteAtMs = parseMeta(open(metaKey(name), doc.meta)).compactedAtMs ?? null
    }
    const compactedAtMs =
      doc.meta === undefined ? undefined : parseMeta(open(metaKey(name), doc.meta)).compactedAtMs
    return {
      name,
      snapshotAtMs: doc.snapshotBytes > 0 ? (compactedAtMs ?? null) : null,
      snapshotBytes: doc.snapshotBytes,
      logBytes: doc.logBytes,
      logRecords: doc.logRecords,
      lastWriteAtMs,
    }
  })
}
