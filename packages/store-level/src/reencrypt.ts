/** reencryptValues: rewrites a store's values under its newest key, one bounded batch at a time. */
import { WeftError } from '@weft/protocol'
import type { Level } from 'level'
import type { CommitJob } from './group-commit.js'
import { ENCRYPTION_KEY, FORMAT_KEY, sealedRange } from './keys.js'
import { openValue, sealedKeyId, sealValue, type Keyring } from './value-cipher.js'

/** Options of `LevelStore.reencrypt`. */
export interface ReencryptOptions {
  /** Most values read and rewritten per batch. Default 1,000. */
  readonly maxBatchValues?: number
  /** A batch ends once the values it read reach this many bytes. Default 16 MiB. */
  readonly maxBatchBytes?: number
  /** Stops after the batch in progress; the result then has `complete: false`. */
  readonly signal?: AbortSignal
  /** Called after each committed batch with the totals so far. */
  readonly onBatch?: (progress: ReencryptResult) => void
}

/** What a re-encryption did. */
export interface ReencryptResult {
  /** Values read (each document's snapshot, metadata and log records). */
  readonly scanned: number
  /** Values rewritten under the newest key: plaintext ones and those under older keys. */
  readonly rewritten: number
  /** Batches committed. */
  readonly batches: number
  /** False when `signal` stopped it before the last value; run it again to finish. */
  readonly complete: boolean
}

type Put = { type: 'put'; key: string; value: Uint8Array }

/** What `reencryptValues` needs of the store. */
export interface ReencryptTarget {
  readonly db: Level<string, Uint8Array>
  readonly keyring: Keyring
  /** Commits a job through the store's writer. */
  readonly commit: (job: CommitJob<Put>) => Promise<void>
}

const DEFAULT_BATCH_VALUES = 1000
const DEFAULT_BATCH_BYTES = 16 * 1024 * 1024

/**
 * Walks every sealed key in order (documents, the change feed, state records). Each batch is read and sealed inside the writer as a group
 * of its own, so no concurrent write (an append, a compaction) can fall between reading a value
 * and writing it back; each batch commits atomically.
 */
export const reencryptValues = async (
  { db, keyring, commit }: ReencryptTarget,
  options: ReencryptOptions,
): Promise<ReencryptResult> => {
  const maxValues = positive(options.maxBatchValues, 'maxBatchValues') ?? DEFAULT_BATCH_VALUES
  const maxBytes = positive(options.maxBatchBytes, 'maxBatchBytes') ?? DEFAULT_BATCH_BYTES
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

const positive = (value: number | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new WeftError('INVALID_ARGUMENT', `reencrypt: ${name} must be a positive integer`)
  }
  return value
}
