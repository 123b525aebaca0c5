/** The types around DocHandle: its events, options, settings, and what it needs from its client. */
import type { ErrorCode, WeftError, WeftMessage } from '@weft/protocol'
import type * as awarenessProtocol from 'y-protocols/awareness'
import type * as Y from 'yjs'
import type { Tracer } from '@opentelemetry/api'
import type { Clock } from './clock.js'
import type { LocalStore } from './local-store.js'
import type { OutboxCompaction } from './outbox-compaction.js'
import type { OutboxLimits, OutboxState } from './outbox-watch.js'
import type { SyncStatus } from './status.js'

/** An edit the relay will never store (rejected, or too big to send); kept for the app to show or discard. */
export interface RejectedEdit {
  readonly ref: number
  /**
   * The oldest edit the refused entry stood for: `ref` itself, or for an entry that merged
   * several edits (see `outboxCompaction`) the first of them still waiting. Every edit from
   * `firstRef` to `ref` was refused.
   */
  readonly firstRef: number
  readonly update: Uint8Array
  readonly code: ErrorCode
  readonly reason: string
}

/** Events of a {@link DocHandle}. */
export interface DocHandleEvents {
  /** The status changed. */
  status: (status: SyncStatus) => void
  /** The locally stored state has been applied to `doc`. */
  loaded: () => void
  /** The relay's state arrived after (re)opening; the document is live. */
  synced: () => void
  /** The number of local edits waiting for the relay changed. */
  pending: (pending: number) => void
  /**
   * The edits waiting passed one of `outboxLimits` (or another one), or came back within them
   * all (`exceeded` empty): backpressure, for the app to warn its user or pause heavy writes.
   */
  'outbox-limit': (state: OutboxState) => void
  /**
   * The relay reported local edits durable; `pending` is the number still waiting. `latencyMs`
   * is the time since the oldest of them was sent on this connection (null when they were sent
   * on an earlier one and the relay's first `saved` after reopening settled them).
   */
  saved: (event: { ref: number; pending: number; latencyMs: number | null }) => void
  /** An edit will never be stored by the relay; it is in `rejected`. */
  rejected: (event: RejectedEdit) => void
  /**
   * After a refusal, `doc` and `awareness` were rebuilt from the relay's state plus the edits
   * still waiting (the rejected ones are in `rejected`). Rebind editors and observers to `doc`.
   */
  reset: (event: { doc: Y.Doc; awareness: awarenessProtocol.Awareness; previous: Y.Doc }) => void
  /** The relay closed this document with an error, or the local store failed. */
  error: (error: WeftError) => void
}

/** How a handle reaches its client. */
export interface HandleOwner {
  send(message: WeftMessage): boolean
  readonly ready: boolean
  /** The relay's frame limit from `welcome`. */
  readonly maxMessageBytes: number
  /** The connection carries trace contexts with edits (protocol version 4). */
  readonly carriesTraces?: boolean
  /** Delay before reopening a document the relay closed with a retryable error. */
  retryDelayMs(attempt: number): number
  release(handle: { readonly name: string }): void
  handleStatusChanged(): void
  /** This handle's new local edits are stored (tabs offline together pass them to each other). */
  storedEdits?(name: string, updates: readonly Uint8Array[]): void
}

/** Settings shared by a client's handles. */
export interface HandleSettings {
  readonly store: LocalStore
  readonly compactAfterUpdates: number
  /** Pending structs (a lost update) left this long trigger a fresh sync. */
  readonly repairAfterMs: number
  /** Edits unacknowledged this long on a live connection trigger a fresh sync. */
  readonly ackTimeoutMs: number
  /** Time for the handles' timers, `saved` latencies and `lastSavedAt`. */
  readonly clock: Clock
  /** Bounds on each document's unsaved edits, for `outbox-limit`; `null`: none. */
  readonly outboxLimits: OutboxLimits | null
  /** When each document's waiting edits are merged into one; `null`: never. */
  readonly outboxCompaction: OutboxCompaction | null
  /** Where the spans of local edits go; `null`: not traced. */
  readonly tracer: Tracer | null
}

/** Options of `WeftClient.open`. */
export interface OpenOptions {
  /** Sync this `Y.Doc` (for example an editor binding's) instead of a new one. */
  doc?: Y.Doc
  /** Use this awareness instead of a new one (it must belong to `doc`). */
  awareness?: awarenessProtocol.Awareness
}
