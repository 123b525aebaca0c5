/** The messages of the Weft dialect: their types, wire tags and field layouts. */

/**
 * Field kinds on the wire: a lib0 varUint, a varString (UTF-8), a varUint8Array, or a list of
 * byte arrays (varUint count, then each as a varUint8Array).
 */
export type FieldKind = 'uint' | 'string' | 'bytes' | 'bytes-list'

/** The client opens the conversation: protocol versions it speaks, its token and correlation id. */
export interface HelloMessage {
  type: 'hello'
  minVersion: number
  maxVersion: number
  /** Bearer token; empty when the client has none. */
  token: string
  /** Client-chosen id that the relay writes on every log line about this session. */
  correlationId: string
  /** Free-form client name and version, for logs. */
  client: string
}

/** The relay accepts: the negotiated version, its id for this connection and its limits. */
export interface WelcomeMessage {
  type: 'welcome'
  version: number
  connectionId: string
  maxMessageBytes: number
  server: string
}

/** Open a document and ask for what the client lacks (`stateVector` is the client's). */
export interface OpenMessage {
  type: 'open'
  doc: string
  stateVector: Uint8Array
}

/** Stop receiving a document (client → relay), or the relay ended it (relay → client). */
export interface CloseMessage {
  type: 'close'
  doc: string
}

/** "This is what I have": the receiver answers with sync-step-2. */
export interface SyncStep1Message {
  type: 'sync-step-1'
  doc: string
  stateVector: Uint8Array
}

/**
 * What the receiver lacks, as one Yjs update. `ref` is a client-chosen number echoed in
 * `saved` and `rejected` (0 when the relay sends).
 */
export interface SyncStep2Message {
  type: 'sync-step-2'
  doc: string
  ref: number
  update: Uint8Array
}

/** A live Yjs update; `ref` as in sync-step-2. */
export interface UpdateMessage {
  type: 'update'
  doc: string
  ref: number
  update: Uint8Array
}

/**
 * Several live Yjs updates in one frame, applied in order in one transaction. `ref` is that of
 * the last update of the batch; 0 when the relay sends. At most `MAX_LIST_ITEMS` updates.
 */
export interface UpdatesMessage {
  type: 'updates'
  doc: string
  ref: number
  updates: Uint8Array[]
}

/** A y-protocols awareness update (presence, cursors). */
export interface AwarenessMessage {
  type: 'awareness'
  doc: string
  update: Uint8Array
}

/**
 * Durability acknowledgement. Everything the state vector covers is on disk, and so is every
 * update this session sent for the document with a ref up to `ref` (which also covers
 * deletions, which a state vector cannot describe).
 */
export interface SavedMessage {
  type: 'saved'
  doc: string
  ref: number
  stateVector: Uint8Array
}

/** An update was refused: it was not applied, stored or forwarded. The document stays open. */
export interface RejectedMessage {
  type: 'rejected'
  doc: string
  ref: number
  code: string
  reason: string
}

/** An error about one document (which is closed for this socket) or, with `doc` empty, the connection. */
export interface ErrorMessage {
  type: 'error'
  doc: string
  code: string
  reason: string
}

/** Replace the session's token without reconnecting. */
export interface RefreshTokenMessage {
  type: 'refresh-token'
  token: string
}

/** Heartbeat request; the peer answers with a pong carrying the same nonce. */
export interface PingMessage {
  type: 'ping'
  nonce: number
}

/** Heartbeat answer. */
export interface PongMessage {
  type: 'pong'
  nonce: number
}

/**
 * Another frame, its bytes compressed with raw DEFLATE (RFC 1951): sent instead of a large frame
 * when both sides speak protocol version 2 or later and compression makes it smaller. `size` is
 * the frame's length once inflated, which the receiver checks against its limit first.
 */
export interface CompressedMessage {
  type: 'compressed'
  size: number
  payload: Uint8Array
}

/**
 * One numbered piece of a frame too large to travel whole (protocol version 3 and later): the
 * pieces of `transfer`, in `index` order from 0 to `count - 1`, joined make a frame of `size`
 * bytes, which the receiver then handles as if it had arrived in one piece. The receiver answers
 * each piece it keeps with `resume`.
 */
export interface ChunkMessage {
  type: 'chunk'
  /** The sender's id of the transfer, unique while the transfer can be resumed. */
  transfer: string
  index: number
  count: number
  /** Bytes of the whole frame. */
  size: number
  payload: Uint8Array
}

/**
 * "I hold the first `received` pieces of `transfer`; send the rest from there." The receiver of a
 * transfer sends it for every piece it keeps (which also paces the sender), after a reconnect for
 * a transfer it holds part of, and to correct a sender that skipped ahead or resent.
 */
export interface ResumeMessage {
  type: 'resume'
  transfer: string
  received: number
}

/**
 * An `update`, `updates` or `sync-step-2` frame with the trace contexts of the edits it carries
 * (protocol version 4 and later), each 25 bytes (16 of trace id, 8 of span id, 1 of flags) or
 * empty for an edit without one: one per update, or one or more for a sync step 2. See
 * `traced-frame.ts`.
 */
export interface TracedMessage {
  type: 'traced'
  /** The encoded `update`, `updates` or `sync-step-2` frame. */
  frame: Uint8Array
  contexts: Uint8Array[]
}

/** Any Weft dialect message. */
export type WeftMessage =
  | HelloMessage
  | WelcomeMessage
  | OpenMessage
  | CloseMessage
  | SyncStep1Message
  | SyncStep2Message
  | UpdateMessage
  | UpdatesMessage
  | AwarenessMessage
  | SavedMessage
  | RejectedMessage
  | ErrorMessage
  | RefreshTokenMessage
  | PingMessage
  | PongMessage
  | CompressedMessage
  | ChunkMessage
  | ResumeMessage
  | TracedMessage

/** The `type` of a Weft message. */
export type MessageType = WeftMessage['type']

/** The message with the given type. */
export type MessageOf<T extends MessageType> = Extract<WeftMessage, { type: T }>

type Layout<T extends MessageType> = ReadonlyArray<
  readonly [Exclude<keyof MessageOf<T>, 'type'>, FieldKind]
>

interface MessageSpec<T extends MessageType> {
  readonly tag: number
  readonly fields: Layout<T>
}

/**
 * Wire tag and field order of every message, in wire order. Tags are never reused; a new message
 * takes a new tag and bumps {@link PROTOCOL_VERSION}.
 */
export const MESSAGE_SPECS: { readonly [T in MessageType]: MessageSpec<T> } = {
  hello: {
    tag: 0,
    fields: [
      ['minVersion', 'uint'],
      ['maxVersion', 'uint'],
      ['token', 'string'],
      ['correlationId', 'string'],
      ['client', 'string'],
    ],
  },
  welcome: {
    tag: 1,
    fields: [
      ['version', 'uint'],
      ['connectionId', 'string'],
      ['maxMessageBytes', 'uint'],
      ['server', 'string'],
    ],
  },
  open: {
    tag: 2,
    fields: [
      ['doc', 'string'],
      ['stateVector', 'bytes'],
    ],
  },
  close: { tag: 3, fields: [['doc', 'string']] },
  'sync-step-1': {
    tag: 4,
    fields: [
      ['doc', 'string'],
      ['stateVector', 'bytes'],
    ],
  },
  'sync-step-2': {
    tag: 5,
    fields: [
      ['doc', 'string'],
      ['ref', 'uint'],
      ['update', 'bytes'],
    ],
  },
  update: {
    tag: 6,
    fields: [
      ['doc', 'string'],
      ['ref', 'uint'],
      ['update', 'bytes'],
    ],
  },
  awareness: {
    tag: 7,
    fields: [
      ['doc', 'string'],
      ['update', 'bytes'],
    ],
  },
  saved: {
    tag: 8,
    fields: [
      ['doc', 'string'],
      ['ref', 'uint'],
      ['stateVector', 'bytes'],
    ],
  },
  rejected: {
    tag: 9,
    fields: [
      ['doc', 'string'],
      ['ref', 'uint'],
      ['code', 'string'],
      ['reason', 'string'],
    ],
  },
  error: {
    tag: 10,
    fields: [
      ['doc', 'string'],
      ['code', 'string'],
      ['reason', 'string'],
    ],
  },
  'refresh-token': { tag: 11, fields: [['token', 'string']] },
  ping: { tag: 12, fields: [['nonce', 'uint']] },
  pong: { tag: 13, fields: [['nonce', 'uint']] },
  updates: {
    tag: 14,
    fields: [
      ['doc', 'string'],
      ['ref', 'uint'],
      ['updates', 'bytes-list'],
    ],
  },
  compressed: {
    tag: 15,
    fields: [
      ['size', 'uint'],
      ['payload', 'bytes'],
    ],
  },
  chunk: {
    tag: 16,
    fields: [
      ['transfer', 'string'],
      ['index', 'uint'],
      ['count', 'uint'],
      ['size', 'uint'],
      ['payload', 'bytes'],
    ],
  },
  resume: {
    tag: 17,
    fields: [
      ['transfer', 'string'],
      ['received', 'uint'],
    ],
  },
  traced: {
    tag: 18,
    fields: [
      ['frame', 'bytes'],
      ['contexts', 'bytes-list'],
    ],
  },
}

/** Message types by wire tag. */
export const MESSAGE_TYPES_BY_TAG: ReadonlyMap<number, MessageType> = new Map(
  (Object.keys(MESSAGE_SPECS) as MessageType[]).map((type) => [MESSAGE_SPECS[type].tag, type]),
)
