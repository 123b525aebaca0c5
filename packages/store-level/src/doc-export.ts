/**
 * Export: every document of the database as a `DocImage` with its records, and each document's
 * feed sequence, read a piece at a time (a long log or a large store is never held whole).
 */
import type { DocImage, FeedSeqImage, HistoryRecord } from '@weft/server/store'
import { decodeLogRecord } from '@weft/server/store'
import { parseMeta } from './doc-meta.js'
import {
  docsRange,
  histBaseKey,
  histRange,
  logRange,
  metaKey,
  seqOfLogKey,
  snapshotKey,
} from './keys.js'
import type { StoreAccess } from './store-access.js'

const DOCS_PREFIX = 'v1:doc:'
const FEED_SEQS = { gt: 'v1:feedseq:', lt: 'v1:feedseq;' }
const textDecoder = new TextDecoder()

/** The document whose key this is. */
const nameOfKey = (key: string): string => {
  const rest = key.slice(DOCS_PREFIX.length)
  return decodeURIComponent(rest.slice(0, rest.indexOf(':')))
}

/** Each document's image, in key order; one seek per document, not a read of every key. */
export async function* readDocImages({ db, open }: StoreAccess): AsyncGenerator<DocImage> {
  let from = docsRange().gt
  for (;;) {
    const [key] = await db.keys({ gt: from, lt: docsRange().lt, limit: 1 }).all()
    if (key === undefined) return
    const name = nameOfKey(key)
    // A document's keys are exactly those from `…<name>:` up to `…<name>;` (no name holds ':').
    from = `${DOCS_PREFIX}${encodeURIComponent(name)};`
    const [snapshot, meta, base] = await db.getMany([
      snapshotKey(name),
      metaKey(name),
      histBaseKey(name),
    ])
    const parsed = parseMeta(meta === undefined ? undefined : open(metaKey(name), meta))
    const [last] = await db.keys({ ...logRange(name), reverse: true, limit: 1 }).all()
    yield {
      name,
      headSeq: last === undefined ? parsed.compactedThrough : seqOfLogKey(last),
      compactedThrough: parsed.compactedThrough,
      compactedAtMs: parsed.compactedAtMs ?? null,
      snapshot: snapshot === undefined ? null : open(snapshotKey(name), snapshot),
      historyBase: base === undefined ? null : open(histBaseKey(name), base),
    }
  }
}

/** A document's records, oldest first: the history kept after compaction, then the log. */
export async function* readDocRecords(
  { db, open }: StoreAccess,
  name: string,
): AsyncGenerator<HistoryRecord> {
  for (const range of [histRange(name), logRange(name)]) {
    for await (const [key, value] of db.iterator(range))
      yield { seq: seqOfLogKey(key), entries: decodeLogRecord(open(key, value)) }
  }
}

/** Every document's last change-feed sequence number, deleted documents' included. */
export async function* readFeedSeqs({ db, open }: StoreAccess): AsyncGenerator<FeedSeqImage> {
  for await (const [key, value] of db.iterator(FEED_SEQS)) {
    const parsed = JSON.parse(textDecoder.decode(open(key, value))) as { seq?: number }
    yield { doc: decodeURIComponent(key.slice(FEED_SEQS.gt.length)), seq: parsed.seq ?? 0 }
  }
}
