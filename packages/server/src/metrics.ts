/**
 * RelayMetrics: what the relay reports as it works, for a metrics system to count. The relay
 * calls these synchronously on its hot paths: implementations only add to counters.
 */
import type { BusMessage } from './relay-bus.js'
import type { CatchUpReason } from './room-sequence.js'

/** Where a refusal applies: one update, one document on a socket, or the whole socket. */
export type RefusalScope = 'update' | 'document' | 'socket'

/** What happened to a conflict: a field got several standing values, or one again. */
export type ConflictChange = 'opened' | 'resolved'

/** Observer of the relay's work. Every method is optional to implement via {@link silentMetrics}. */
export interface RelayMetrics {
  /** A WebSocket was accepted in `dialect`. */
  socketOpened(dialect: 'weft' | 'y-websocket'): void
  /** A WebSocket closed with `code` (1006 when it dropped). */
  socketClosed(code: number): void
  /** A frame of `bytes` arrived / was sent. */
  frameIn(bytes: number): void
  frameOut(bytes: number): void
  /** A room integrated `count` updates of one sender (`bytes` in all). */
  updatesApplied(count: number, bytes: number): void
  /** Updates received `seconds` ago went out to `peers` other peers. */
  fannedOut(seconds: number, peers: number): void
  /** One append of `entries` log entries (`bytes`) took `seconds` to become durable. */
  persisted(entries: number, bytes: number, seconds: number): void
  /** A `saved` went out for an edit received `seconds` ago. */
  acknowledged(seconds: number): void
  /**
   * A message's updates were judged against a session's scope or a document's schema and record
   * rules (see `writeDenied`), in `seconds`; not called when there was nothing to check.
   */
  writeChecked(seconds: number): void
  /** An update, a document or a socket was refused with `code` (UNAUTHORIZED: a token). */
  refused(code: string, scope: RefusalScope): void
  /**
   * A transaction a room integrated opened or resolved a conflict on a field of a record in
   * `collection` (a collection of the document's schema, so the set of names is bounded).
   */
  conflict(change: ConflictChange, collection: string): void
  /**
   * A session opened again a document it has open: the client repairs its copy. `full` when it
   * sent an empty state vector (it threw its copy away after a refused edit and asked for the
   * whole state), else a resync after a lost update or a lost acknowledgement.
   */
  repairSync(full: boolean): void
  /** An upgrade request was refused with HTTP `status` before the handshake. */
  upgradeRefused(status: number): void
  /** A socket was closed because more than the cap waited to be sent to it. */
  slowConsumer(): void
  /** A socket sent faster than its rate limits: the relay stopped reading it for a while. */
  socketThrottled(): void
  /** A compaction took `seconds`; `ok` is false when it failed (the log stays intact). */
  compacted(seconds: number, ok: boolean): void
  /** An append failed (disk full, I/O error): its document was closed, nothing acknowledged. */
  storageFailed(): void
  /** A message of `kind` went out on the bus to the other relays (none do while it is down). */
  busMessageOut(kind: BusMessage['kind']): void
  /** A message of `kind` arrived on the bus from another relay. */
  busMessageIn(kind: BusMessage['kind']): void
  /**
   * A loaded document's sequence opened a gap: a record arrived beyond the next one expected.
   * Most fill within the grace period; the rest are read from the store (`caughtUp` `gap`).
   */
  busGap(): void
  /**
   * A room read the store for records the bus did not bring, for `reason`; it took `seconds`, and
   * `ok` is false when it failed (it is tried again while the gap remains).
   */
  caughtUp(reason: CatchUpReason, seconds: number, ok: boolean): void
}

const noop = (): void => {}

/** Reports nothing: the default. */
export const silentMetrics: RelayMetrics = {
  socketOpened: noop,
  socketClosed: noop,
  frameIn: noop,
  frameOut: noop,
  updatesApplied: noop,
  fannedOut: noop,
  persisted: noop,
  acknowledged: noop,
  writeChecked: noop,
  refused: noop,
  conflict: noop,
  repairSync: noop,
  upgradeRefused: noop,
  slowConsumer: noop,
  socketThrottled: noop,
  compacted: noop,
  storageFailed: noop,
  busMessageOut: noop,
  busMessageIn: noop,
  busGap: noop,
  caughtUp: noop,
}
