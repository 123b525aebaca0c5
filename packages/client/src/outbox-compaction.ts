/** OutboxCompaction: when a document's waiting edits are merged into one, and that option's checks. */
import { WeftError } from '@weft/protocol'
import type { Outbox } from './outbox.js'

/**
 * When the edits waiting for the relay are merged into one entry (`ClientOptions.outboxCompaction`),
 * so that a device editing offline for days holds memory and local storage in proportion to the
 * document, not to its keystrokes.
 */
export interface OutboxCompaction {
  /** Merge once more than this many entries wait besides the last merged one. Default 1,000. */
  readonly maxEntries: number
  /** Merge once those entries hold more than this many bytes. Default 1,048,576 (1 MiB). */
  readonly maxBytes: number
}

/** The defaults of {@link OutboxCompaction}. */
export const DEFAULT_OUTBOX_COMPACTION: OutboxCompaction = {
  maxEntries: 1_000,
  maxBytes: 1_048_576,
}

/**
 * True when `outbox` should be merged under `policy`: the entries added since the last merge
 * pass one of its bounds, and hold at least as many bytes as the merged entry, so that encoding
 * the merge (about the document's size) costs a bounded amount per byte edited however large the
 * document grows.
 */
export const wantsOutboxMerge = (outbox: Outbox, policy: OutboxCompaction): boolean => {
  const merged = outbox.mergedBytes
  const entries = outbox.size - (merged > 0 ? 1 : 0)
  const bytes = outbox.bytes - merged
  return (entries > policy.maxEntries || bytes > policy.maxBytes) && bytes >= merged
}

/** Validates `options.outboxCompaction` and fills in its defaults; `null` turns merging off. */
export const resolveOutboxCompaction = (value: unknown): OutboxCompaction | null => {
  if (value === null) return null
  if (value === undefined) return DEFAULT_OUTBOX_COMPACTION
  if (typeof value !== 'object') {
    throw new WeftError(
      'INVALID_ARGUMENT',
      'options.outboxCompaction must be null or an object: { maxEntries?, maxBytes? }',
    )
  }
  for (const [key, bound] of Object.entries(value)) {
    if (!(key in DEFAULT_OUTBOX_COMPACTION)) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `options.outboxCompaction.${key} is not a bound (maxEntries, maxBytes)`,
      )
    }
    if (bound !== undefined && (!Number.isSafeInteger(bound) || (bound as number) < 1)) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `options.outboxCompaction.${key} must be a positive integer, got ${String(bound)}`,
      )
    }
  }
  const given = value as Partial<OutboxCompaction>
  return {
    maxEntries: given.maxEntries ?? DEFAULT_OUTBOX_COMPACTION.maxEntries,
    maxBytes: given.maxBytes ?? DEFAULT_OUTBOX_COMPACTION.maxBytes,
  }
}
