/** DocImage: a document exactly as a store holds it, for copying it whole to another store. */

/**
 * What a store holds of one document besides its records: where its log stands and what
 * compaction left. With its records (`HistoryRecord`s: the history kept after compaction, then
 * the log), it is the document with its sequence numbers, so a store importing it continues
 * numbering where the exporting one stopped.
 */
export interface DocImage {
  readonly name: string
  /** Sequence number of the last record written (0: none). */
  readonly headSeq: number
  /** The last record the snapshot covers (0: never compacted). */
  readonly compactedThrough: number
  /** When the snapshot was written, in milliseconds since the epoch (null: never). */
  readonly compactedAtMs: number | null
  /** A Yjs v1 update holding the compacted state, or null. */
  readonly snapshot: Uint8Array | null
  /** The state before the oldest history record, or null (see `DocHistory.base`). */
  readonly historyBase: Uint8Array | null
}

/** A document's last change-feed sequence number; it outlives the document's deletion. */
export interface FeedSeqImage {
  readonly doc: string
  readonly seq: number
}
