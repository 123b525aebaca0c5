/**
 * historyWrites: reads what compaction needs for the history window and plans its writes (the
 * planning itself is the pure `planHistory`).
 */
import type { DocMeta } from './doc-meta.js'
import { planHistory, type PlainRecord } from './history-window.js'
import { decodeLogRecord, newestReceivedAtMs } from '@weft/server/store'
import { histBaseKey, histRange, snapshotKey } from './keys.js'
import type { Op, StoreAccess } from './store-access.js'

/**
 * The writes that move folded log records to history and merge those older than the window
 * into the history base. A store that was compacted before it kept history starts its base
 * from the snapshot it had.
 */
export const historyWrites = async (
  { db, seal, open }: StoreAccess,
  name: string,
  folded: Array<[string, Uint8Array]>,
  meta: DocMeta,
  historyMs: number,
): Promise<Op[]> => {
  const ops: Op[] = []
  const cutoff = Date.now() - historyMs
  // Only the history records old enough to leave the window matter here, and they come first:
  // read up to the first one still inside it, not the whole history on every compaction (which
  // made compactions of a long-lived document cost ever more).
  const kept: Array<[string, Uint8Array]> = []
  for await (const [key, value] of db.iterator(histRange(name))) {
    kept.push([key, value])
    if (newestReceivedAtMs(decodeLogRecord(open(key, value))) >= cutoff) break
  }
  const storedBase = await db.get(histBaseKey(name))
  let base: Uint8Array | null =
    storedBase === undefined ? null : open(histBaseKey(name), storedBase)
  if (base === null && kept.length === 0 && meta.compactedThrough > 0) {
    const previous = await db.get(snapshotKey(name))
    if (previous !== undefined) base = open(snapshotKey(name), previous)
  }
  const plain = ([key, value]: [string, Uint8Array]): PlainRecord => ({
    key,
    plain: open(key, value),
  })
  const plan = planHistory({
    name,
    kept: kept.map(plain),
    folded: folded.map(plain),
    base,
    baseIsNew: storedBase === undefined,
    cutoff,
  })
  for (const key of plan.dels) ops.push({ type: 'del', key })
  for (const { key, plain } of plan.puts) ops.push({ type: 'put', key, value: seal(key, plain) })
  if (plan.base !== null) {
    const key = histBaseKey(name)
    ops.push({ type: 'put', key, value: seal(key, plan.base) })
  }
  return ops
}
