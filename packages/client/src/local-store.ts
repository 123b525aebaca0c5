/** LocalStore: where a client keeps its copy of each document and its outbox, across restarts. */

/** A local edit waiting for the relay's acknowledgement. */
export interface OutboxRecord {
  /** The ref the relay echoes in `saved`; increases with every edit of the document. */
  readonly ref: number
  /** The edit, as a Yjs v1 update. */
  readonly update: Uint8Array
}

/** Everything a LocalStore holds for one document. */
export interface LocalDoc {
  /** Compacted state (a Yjs v1 update), or `null` before the first compaction. */
  readonly snapshot: Uint8Array | null
  /** Updates written after the snapshot, oldest first (local edits and updates from the relay). */
  readonly updates: readonly Uint8Array[]
  /** Local edits the relay has not acknowledged, by ascending ref. */
  readonly outbox: readonly OutboxRecord[]
  /** The highest ref ever written for this document (0 when none), so refs are never reused. */
  readonly lastRef: number
}

/** One atomic change to a document's local data. */
export interface LocalChange {
  /** Updates to add to the document's state (from the relay, or local edits). */
  readonly updates?: readonly Uint8Array[]
  /** Local edits to add to the outbox (their updates also belong in `updates`). */
  readonly outboxAdd?: readonly OutboxRecord[]
  /** Refs the relay acknowledged: remove them from the outbox. */
  readonly outboxRemove?: readonly number[]
}

/**
 * Durable local storage for a client. Small enough to implement over SQLite on a phone; the
 * conformance suite in `@weft/testkit` (`runLocalStoreSuite`) checks every implementation.
 *
 * - `write` is atomic: after a crash either all of a change is there or none of it.
 * - `compact` replaces the stored updates with a snapshot that includes all of them, atomically;
 *   the outbox is untouched.
 * - The client never runs two calls for the same document at once; calls for different
 *   documents may overlap.
 * - An unknown document loads as empty.
 */
export interface LocalStore {
  /** Reads a document's state and outbox. */
  load(doc: string): Promise<LocalDoc>
  /** Applies one change atomically; resolves once it is written. */
  write(doc: string, change: LocalChange): Promise<void>
  /** Replaces every stored update of `doc` with `snapshot` (which must include them all). */
  compact(doc: string, snapshot: Uint8Array): Promise<void>
  /** Removes everything stored for `doc`, its last ref included; only while it is not open. */
  clear(doc: string): Promise<void>
  /** Releases the store; later calls reject with `CLOSED`. */
  close(): Promise<void>
  /**
   * Opens another writer of the same storage (its own namespace), for a second client on the same
   * device such as the tab that relays for the others; undefined when the store cannot.
   */
  openSibling?(): Promise<LocalStore>
}
