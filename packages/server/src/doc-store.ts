/** DocStore: the storage interface the relay persists documents through. */
import type { ChangeEvent } from '@weft/doc'

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
  /**
   * Which life of the document this is, for stores several relays share: each time the
   * document is created (its first append, also after a deletion) it gets a new one, never
   * reused. A relay passes it back with its appends (see {@link AppendOptions}), so a document
   * another relay deleted is not silently recreated from what this relay still holds. Absent
   * while the document is not stored, and from stores only one relay uses.
   */
  readonly incarnation?: string
}

/** Conditions of one append, and what it reports besides its sequence number. */
export interface AppendOptions {
  /**
   * The document's {@link StoredDoc.incarnation} the caller loaded: unless the document is stored
   * with it, the append writes nothing and rejects with `DOC_DELETED` (another relay deleted the
   * document since). Stores without incarnations ignore it.
   */
  readonly incarnation?: string
  /**
   * Called before the append resolves with the incarnation it was written under (stores with
   * incarnations only): how a relay that loaded the document absent, or created it, learns it.
   */
  readonly written?: (incarnation: string) => void
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
 * One accepted change as the change feed records it. The relay hands it to the store with the
 * append that stores the change (or the deletion), and the store writes both atomically.
 */
export interface FeedChange {
  /** `update`: the change's updates were stored; `deleted`: the document was deleted. */
  readonly kind: 'update' | 'deleted'
  /** Token subject of the writer (`service:<name>` for in-process services, `admin:<operator>`). */
  readonly author: string
  readonly correlationId: string
  /** When the relay received the change, in milliseconds since the epoch. */
  readonly receivedAtMs: number
  /** Bytes stored for the change. */
  readonly bytes: number
  /** The domain events it produced, for a document with a schema; otherwise empty. */
  readonly events: readonly ChangeEvent[]
  /**
   * The W3C trace context of the write (its `weft.update` span), when it was traced: webhook
   * deliveries and feed consumers continue that trace. Absent when nothing recorded it.
   */
  readonly traceparent?: string
}

/** A change as the feed returns it. */
export interface FeedEntry extends FeedChange {
  /**
   * Its place in the store's feed: grows by one with every change of every document, in the
   * order they became durable, and is never reused. It is the change's stable id and the cursor
   * a consumer resumes after.
   */
  readonly position: number
  readonly doc: string
  /** The document's own sequence: 1, 2, 3… for its changes, never reused (not even after a deletion). */
  readonly seq: number
}

/** A page of the change feed. */
export interface FeedPage {
  /** Entries after the requested position, oldest first. */
  readonly entries: readonly FeedEntry[]
  /** Position of the newest durable change (0: none yet). */
  readonly head: number
  /**
   * Entries up to this position were removed by retention: a consumer whose cursor is below it
   * has missed changes (0: nothing pruned yet).
   */
  readonly prunedThrough: number
}

/** A small durable record of the relay's own (a webhook's cursor, a dead letter), as JSON. */
export interface StateRecord {
  readonly key: string
  readonly value: unknown
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
 *   crash leaves either the old or the new state, never a mix. A stale compaction (`throughSeq`
 *   not past the stored snapshot's, or beyond the head) changes nothing.
 * - An unknown document loads as empty (`snapshot: null`, no updates).
 * - `delete` removes a document at once and entirely: it then loads as empty, is not listed,
 *   and its log sequence numbers start again.
 * - With a change feed, every change given to `append` or `delete` gets the next feed position
 *   and the next sequence number of its document in the same atomic write as what it records:
 *   the feed never shows a change that is not durable, nor misses one that is. Positions are
 *   consecutive, in the order writes became durable, and survive a reopen.
 */
export interface DocStore {
  /**
   * Whether the store gives documents incarnations (see {@link StoredDoc.incarnation}): a
   * relay that does not know yet which life of a document it holds then sends nothing of it to
   * other relays ahead of its records, whose incarnation it learns when the first is written.
   */
  readonly keepsIncarnations?: boolean
  /** Reads a document's snapshot and log. */
  load(name: string): Promise<StoredDoc>
  /**
   * Appends entries to a document's log as one record; resolves with its sequence number once
   * durable. With a change feed (`feedRetentionMs > 0`), `changes` are written to the feed in the
   * same atomic write, in order. With `options.incarnation`, see {@link AppendOptions}.
   */
  append(
    name: string,
    entries: readonly AppendEntry[],
    changes?: readonly FeedChange[],
    options?: AppendOptions,
  ): Promise<number>
  /**
   * Atomically stores `snapshot` and drops log records with sequence numbers up to `throughSeq`
   * (with a history window, they move to history). `snapshot` must hold at least those records.
   *
   * A stale compaction resolves and changes nothing — not the snapshot, the log nor the history:
   * one whose `throughSeq` is not past the sequence the stored snapshot already covers (the last
   * compaction that took effect; 0 before any), one beyond the document's `headSeq`, and one of a
   * document the store does not hold. Compactions of one document are ordered with each other
   * and with its appends, so when several relays sharing a store compact it at once, an older
   * snapshot never replaces a newer one and no record appended after `throughSeq` is lost. A
   * compaction refused because the stored one is as new or newer found every record through
   * `throughSeq` already folded, so its caller may count them as folded.
   */
  compact(name: string, snapshot: Uint8Array, throughSeq: number): Promise<void>
  /** Finishes pending writes and releases resources; later calls reject with `CLOSED`. */
  close(): Promise<void>
  /** Every document the store holds, by name (scans the whole store: for operators). */
  list(): Promise<DocSummary[]>
  /** The document's retained history (see {@link DocHistory}); without a window, the log. */
  history(name: string): Promise<DocHistory>
  /**
   * Removes a document: snapshot, log and metadata, in one atomic write, with `change` in the
   * feed (if it keeps one). Its feed entries stay until retention removes them.
   */
  delete(name: string, change?: FeedChange): Promise<void>
  /**
   * How long (ms) the change feed keeps entries; 0 when the store keeps no feed. It follows the
   * history window: a store without one writes no feed.
   */
  readonly feedRetentionMs: number
  /** Up to `limit` feed entries after position `after`, oldest first, as durable now. */
  readFeed(after: number, limit: number): Promise<FeedPage>
  /**
   * Removes feed entries received before `nowMs - feedRetentionMs`, oldest first, up to the
   * first newer one; resolves with how many were removed.
   */
  pruneFeed(nowMs?: number): Promise<number>
  /** The state records whose keys start with `prefix`, by key. */
  readState(prefix: string): Promise<StateRecord[]>
  /** Writes state records atomically and durably; a `null` value deletes the record. */
  writeState(records: ReadonlyArray<{ key: string; value: unknown }>): Promise<void>
}
