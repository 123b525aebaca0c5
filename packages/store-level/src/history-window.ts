/**
 * What compaction does to a document's history when the store keeps a window of it: the log
 * records it folds become history records, and history records older than the window are merged
 * into the history base. Pure: the store reads and decrypts the inputs, and seals and writes
 * the result in the compaction's batch.
 */
import type { AppendEntry } from '@weft/server/store'
import { foldUpdates } from '@weft/doc'
import { histKey, seqOfLogKey } from './keys.js'
import { decodeLogRecord, newestReceivedAtMs } from '@weft/server/store'

/** A record as stored under `key`, decrypted. */
export interface PlainRecord {
  readonly key: string
  readonly plain: Uint8Array
}

/** The history writes of one compaction: plaintext puts (to seal) and deletions. */
export interface HistoryPlan {
  readonly puts: Array<{ key: string; plain: Uint8Array }>
  readonly dels: string[]
  /** The new history base, when it changes. */
  readonly base: Uint8Array | null
}

/**
 * Plans the history writes for `name`: `kept` are its history records, `folded` the log records
 * this compaction removes, `base` the history base (or, before any history was kept, the
 * snapshot the store had, so the first base covers what came before), `cutoff` the oldest
 * receive time still in the window.
 */
export const planHistory = (input: {
  readonly name: string
  readonly kept: readonly PlainRecord[]
  readonly folded: readonly PlainRecord[]
  readonly base: Uint8Array | null
  /** True when `base` is not stored yet (taken from the snapshot). */
  readonly baseIsNew: boolean
  readonly cutoff: number
}): HistoryPlan => {
  const { name, cutoff } = input
  const puts: HistoryPlan['puts'] = []
  const dels: string[] = []
  const pruned: Uint8Array[] = []
  let pruning = true
  const candidates = [
    ...input.kept.map((record) => ({ ...record, stored: true })),
    ...input.folded.map((record) => ({ ...record, stored: false })),
  ]
  for (const candidate of candidates) {
    // Once a record is inside the window, so are the later ones: no need to decode them.
    const entries: AppendEntry[] = pruning ? decodeLogRecord(candidate.plain) : []
    pruning &&= newestReceivedAtMs(entries) < cutoff
    if (pruning) {
      for (const entry of entries) pruned.push(entry.update)
      if (candidate.stored) dels.push(candidate.key)
    } else if (!candidate.stored) {
      puts.push({ key: histKey(name, seqOfLogKey(candidate.key)), plain: candidate.plain })
    }
  }
  const { base } = input
  const changed = pruned.length > 0 || (base !== null && input.baseIsNew)
  return {
    puts,
    dels,
    base: changed ? foldUpdates(base === null ? pruned : [base, ...pruned]) : null,
  }
}
