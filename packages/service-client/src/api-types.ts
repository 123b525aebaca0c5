/** The shapes of the relay's `/v1` HTTP API as this client sends and returns them. */
import type { ChangeEvent, Fields, ModelJson } from '@weft/doc'

/**
 * One change to a record of a document with a schema, as `POST /v1/docs/<name>/records` takes
 * it. `create` without `id` lets the relay choose one (returned in `created`); `update` sets
 * scalar fields; `delete` and `restore` flip the record's deleted flag; `resolve` settles an open
 * conflict of `field` with `value`.
 */
export type RecordChange =
  | {
      readonly op: 'create'
      readonly collection: string
      readonly id?: string
      readonly fields: Readonly<Record<string, unknown>>
    }
  | {
      readonly op: 'update'
      readonly collection: string
      readonly id: string
      readonly fields: Readonly<Record<string, unknown>>
    }
  | { readonly op: 'delete' | 'restore'; readonly collection: string; readonly id: string }
  | {
      readonly op: 'resolve'
      readonly collection: string
      readonly id: string
      readonly field: string
      readonly value: unknown
    }

/**
 * A document as `GET /v1/docs/<name>` returns it: `model` (records through the relay's schema
 * for it) when it has one, else `content` (each root type as JSON). `stateVector` is decoded from
 * the relay's base64: pass it to `getUpdate` to get only what is newer.
 */
export type DocumentRead =
  | {
      readonly name: string
      readonly stateVector: Uint8Array
      readonly model: ModelJson<Readonly<Record<string, Fields>>>
    }
  | {
      readonly name: string
      readonly stateVector: Uint8Array
      readonly content: Readonly<Record<string, unknown>>
    }

/** What a write (`postUpdate`, `changeRecords`) answers once the change is on the relay's disk. */
export interface WriteSaved {
  readonly saved: true
  /** The document's state vector after the write (decoded from the relay's base64). */
  readonly stateVector: Uint8Array
  /** The correlation id the relay stored with the change (the one sent, or one it generated). */
  readonly correlationId: string
}

/** What `changeRecords` answers: {@link WriteSaved} and the ids of the records it created. */
export interface RecordsSaved extends WriteSaved {
  /** Ids of the created records, in the order of the `create` changes. */
  readonly created: readonly string[]
}

/**
 * One change of the feed. `id` (the feed position as a string) is stable: the same id always
 * names the same change of the same document, so it is the key for idempotent processing.
 */
export interface FeedEvent {
  readonly id: string
  /** Its place in the relay's feed; grows by one per change of any document, never reused. */
  readonly position: number
  readonly doc: string
  /** The document's own sequence number of this change: 1, 2, 3…, never reused. */
  readonly seq: number
  /** `update`: the document changed; `deleted`: an operator deleted it. */
  readonly kind: 'update' | 'deleted'
  /** Token subject of the writer (`service:<name>` for in-relay services, `admin:<operator>`). */
  readonly author: string
  /** The writer's correlation id (empty when it sent none). */
  readonly correlationId: string
  /** When the relay received the change, in milliseconds since the epoch. */
  readonly receivedAtMs: number
  /** Bytes stored for the change. */
  readonly bytes: number
  /** Domain events (records created, updated…) for a document with a schema; else empty. */
  readonly events: readonly ChangeEvent[]
  /**
   * The W3C trace context of the write, when the relay traced it: send it as the `traceparent`
   * header of what the change causes (a write-back) to continue its trace.
   */
  readonly traceparent?: string
}

/** A page of the feed, as `readFeed` returns it. */
export interface FeedPage {
  /** Changes after the cursor asked for, oldest first (only those the token and `docs` allow). */
  readonly events: readonly FeedEvent[]
  /**
   * Where to resume: past every change looked at, including ones the filter skipped. It can move
   * even when `events` is empty.
   */
  readonly cursor: string
  /** The newest position in the feed. */
  readonly head: string
}

/** Options of `readFeed`. */
export interface ReadFeedOptions {
  /** Read changes after this cursor (a previous page's `cursor`). Default `'0'`: the oldest kept. */
  readonly after?: string
  /** Most events returned, 1 to 1,000. Default 100. */
  readonly limit?: number
  /** With nothing new, wait up to this long (0 to 60,000 ms) for a change. Default 0. */
  readonly waitMs?: number
  /** Only documents matching one of these patterns (`*` within a segment, `**` across). */
  readonly docs?: readonly string[]
  /** Aborts the request (it then rejects with `CLOSED`). */
  readonly signal?: AbortSignal
}

/** Options every write takes. */
export interface WriteOptions {
  /**
   * Stored with the change and returned in the feed event (printable ASCII, 1 to 256
   * characters). Default: the relay generates one.
   */
  readonly correlationId?: string
  /** Aborts the request (it then rejects with `CLOSED`). */
  readonly signal?: AbortSignal
}
