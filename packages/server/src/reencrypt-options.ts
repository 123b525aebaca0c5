/** The options and result of a store's `reencrypt` (LevelStore, PostgresStore), and their check. */
import { WeftError } from '@weft/protocol'

/** Options of a store's `reencrypt`. */
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
  /**
   * Sealed values read: snapshots, history bases and log records of every document, change-feed
   * entries, state records (and whatever else the store seals).
   */
  readonly scanned: number
  /** Values rewritten under the newest key: plaintext ones and those under older keys. */
  readonly rewritten: number
  /** Batches committed. */
  readonly batches: number
  /** False when `signal` stopped it before the last value; run it again to finish. */
  readonly complete: boolean
}

/** The batch bounds of a re-encryption, defaults applied. */
export interface ReencryptLimits {
  readonly maxBatchValues: number
  readonly maxBatchBytes: number
}

const DEFAULT_BATCH_VALUES = 1000
const DEFAULT_BATCH_BYTES = 16 * 1024 * 1024

/**
 * The batch bounds of `options`, defaults applied; throws `INVALID_ARGUMENT` naming the bad
 * option, prefixed with `caller` (e.g. `PostgresStore.reencrypt`).
 */
export const resolveReencryptLimits = (
  options: ReencryptOptions,
  caller = 'reencrypt',
): ReencryptLimits => {
  const positive = (value: number | undefined, name: string, fallback: number): number => {
    if (value === undefined) return fallback
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `${caller}: options.${name} must be a positive integer, got ${String(value)}`,
      )
    }
    return value
  }
  return {
    maxBatchValues: positive(options.maxBatchValues, 'maxBatchValues', DEFAULT_BATCH_VALUES),
    maxBatchBytes: positive(options.maxBatchBytes, 'maxBatchBytes', DEFAULT_BATCH_BYTES),
  }
}
