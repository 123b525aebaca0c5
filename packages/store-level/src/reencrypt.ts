/** reencryptValues: rewrites a store's values under its newest key, one bounded batch at a time. */
import {
  resolveReencryptLimits,
  type ReencryptOptions,
  type ReencryptResult,
} from '@weft/server/store'
import type { Level } from 'level'
import type { CommitJob } from './group-commit.js'
import { ENCRYPTION_KEY, FORMAT_KEY, sealedRange } from './keys.js'
import { openValue, sealedKeyId, sealValue, type Keyring } from './value-cipher.js'

export type { ReencryptOptions, ReencryptResult } from '@weft/server/store'

type Put = { type: 'put'; key: string; value: Uint8Array }

/** What `reencryptValues` needs of the store. */
export interface ReencryptTarget {
  readonly db: Level<string, Uint8Array>
  readonly keyring: Keyring
  /** Commits a job through the store's writer. */
  readonly commit: (job: CommitJob<Put>) => Promise<void>
}

/**
 * Walks every sealed key in order (documents, the change feed, state records). Each batch is read and sealed inside the writer as a group
 * of its own, so no concurrent write (an append, a compaction) can fall between reading a value
 * and writing it back; each batch commits atomically.
 */
export const reencryptValues = async (
  { db, keyring, commit }: ReencryptTarget,
  options: ReencryptOptions,
): Promise<ReencryptResult> => {
  const { maxBatchValues: maxValues, maxBatchBytes: maxBytes } = resolveReencryptLimits(
    options,
    'LevelStore.reencrypt',
  )
  const range = sealedRange()
  let after = range.gt
  let totals = { scanned: 0, rewritten: 0, batches: 0 }
  for (;;) {
    if (options.signal?.aborted === true) return { ...totals, complete: false }
    let batch = { scanned: 0, rewritten: 0, last: after, end: false }
    await commit({
      alone: true,
      prepare: async () => {
        batch = { scanned: 0, rewritten: 0, last: after, end: false }
        const puts: Put[] = []
        let bytes = 0
        let read = 0
        // Breaking out of the loop closes the iterator.
        for await (const [key, value] of db.iterator({
          gt: after,
          lt: range.lt,
          limit: maxValues,
        })) {
          read += 1
          batch.last = key
          // The markers are never sealed: opening the store reads them before any key.
          if (key === FORMAT_KEY || key === ENCRYPTION_KEY) continue
          batch.scanned += 1
          bytes += value.length
          if (sealedKeyId(value) !== keyring.currentId) {
            puts.push({
              type: 'put',
              key,
              value: sealValue(keyring, key, openValue(keyring, key, value)),
            })
            batch.rewritten += 1
          }
          if (bytes >= maxBytes) break
        }
        batch.end = read < maxValues && bytes < maxBytes
        return puts
      },
    })
    after = batch.last
    if (batch.scanned > 0) {
      totals = {
        scanned: totals.scanned + batch.scanned,
        rewritten: totals.rewritten + batch.rewritten,
        batches: totals.batches + 1,
      }
    }
    if (batch.end) return { ...totals, complete: true }
    options.onBatch?.({ ...totals, complete: false })
  }
}
