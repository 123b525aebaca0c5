/** DocStore: the storage interface the relay persists documents through. */

/** Who sent an update and when; stored beside it in the document's log. */
export interface UpdateMeta {
  /** The session's identity (token subject), or `anonymous`. */
  readonly author: string
  /** The client's correlation id, or empty. */
  readonly correlationId: string
  /** When the relay received the update, in milliseconds since the epoch. */
  readonly receivedAtMs: number
}

/** One update to append to a document's log. */
export interface AppendEntry {
  /** A Yjs v1 update. */
  readonly update: Uint8Array
  readonly meta: UpdateMeta
}

/** A document as stored: a compacted snapshot plus the updates logged after it. */
export interface StoredDoc {
  /** A Yjs v1 update holding the compacted state, or `null` when never compacted. */
  readonly snapshot: Uint8Array | null
  /** Updates logged after the snapshot, oldest first. */
  readonly updates: readonly Uint8Array[]
  /** Sequence number of the last log record written (0 when none ever was). */
  readonly headSeq: number
  /** Total bytes of `updates`. */
  readonly logBytes: number
}

/** One log record kept for history: its sequence number and its entries (who, when, what). */
export interface HistoryRecord {
  readonly seq: number
  readonly entries: readonly AppendEntry[]
}

/**
 * What a store keeps of a document's past: every log record received within its history window
 * (including those compaction folded), oldest first, and `base`, the state before the oldest of
 * them (`null`: none before). Replaying `base` and the records up to a time gives the document
 * as it was then. Without a history window the records are the log and `base` is the snapshot,
 * which, taken from memory, may already hold some of them (replaying them again is harmless).
 */
export interface DocHistory {
  readonly base: Uint8Array | null
  readonly records: readonly HistoryRecord[]
}

/** What the store holds for one document, for listings. */
export interface DocSummary {
  readonly name: string
  /** Stored bytes of the snapshot and of the log records (as written, so encrypted if so). */
  readonly snapshotBytes: number
  readonly logBytes: number
  /** Log records after the snapshot. */
  readonly logRecords: number
  /** Newest `receivedAtMs` in the log, or when the log was last folded into the snapshot. */
  readonly lastWriteAtMs: number | null
  /** When the snapshot was written (the last compaction), or null without one. */
  readonly snapshotAtMs: number | null
}

/**
 * Where the relay keeps documents. Implementations must honour these guarantees, which the
 * conformance suite in `@weft/testkit` checks:
 *
 * - `append` resolves only once its entries are durable, and appends become durable in call
 *   order across all documents: when one resolves, every earlier call has too. A failed write
 *   rejects (never resolves) and so do the appends queued behind it in the same write.
 * - Each `append` call is one log record; records get consecutive sequence numbers per
 *   document, starting after `headSeq`, never reused (not even after compaction).
 * - `compact` replaces the snapshot and removes log records up to `throughSeq` atomically: a
 *   crash leaves either the old or the new state, never a mix.
 * - An unknown document loads as empty (`snapshot: null`, no updates).
 * - `delete` removes a document at once and entirely: it then loads as empty, is not listed,
 *   and its sequence numbers start again.
 */
export interface DocStore {
  /** Reads a document's snapshot and log. */
  load(name: string): Promise<StoredDoc>
  /** Appends entries to a document's log as one record; resolves with its sequence number once durable. */
  append(name: string, entries: readonly AppendEntry[]): Promise<number>
  /** Atomically stores `snapshot` and drops log records with sequence numbers up to `throughSeq`. */
  compact(name: string, snapshot: Uint8Array, throughSeq: number): Promise<void>
  /** Finishes pending writes and releases resources; later calls reject with `CLOSED`. */
  close(): Promise<void>
  /** Every document the store holds, by name (scans the whole store: for operators). */
  list(): Promise<DocSummary[]>
  /** The document's retained history (see {@link DocHistory}); without a window, the log. */
  history(name: string): Promise<DocHistory>
  /** Removes a document: snapshot, log and metadata, in one atomic write. */
  delete(name: string): Promise<void>
}
