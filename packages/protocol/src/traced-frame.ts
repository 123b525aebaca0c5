/**
 * Traced frames (protocol version 4): a client's `update`, `updates` or `sync-step-2` frame wrapped
 * with the W3C trace contexts of the edits it carries, so the relay's spans for them continue the
 * traces the client's edits started. A context travels as 25 bytes: the trace id (16), the span
 * id (8) and the trace flags (1); an edit without one has an empty item. An `update` or `updates`
 * frame has one context per update; a `sync-step-2`, whose one update may hold many edits, has
 * one or more.
 */
import { decodeMessage, encodeMessage } from './codec.js'
import type { SyncStep2Message, TracedMessage, UpdateMessage, UpdatesMessage } from './messages.js'
import { WeftError } from './weft-error.js'

/** Bytes of one trace context on the wire. */
export const TRACE_CONTEXT_BYTES = 25

/** A W3C trace context: ids as lowercase hex, as in a `traceparent` header. */
export interface TraceContext {
  /** 32 hex digits, not all zero. */
  readonly traceId: string
  /** 16 hex digits, not all zero. */
  readonly spanId: string
  /** The trace flags (bit 0: sampled). */
  readonly flags: number
}

/** The frames a `traced` message may carry. */
export type TracedUpdate = UpdateMessage | UpdatesMessage | SyncStep2Message

const TRACE_ID = /^[0-9a-f]{32}$/
const SPAN_ID = /^[0-9a-f]{16}$/
const ALL_ZERO = /^0+$/

const isValidContext = ({ traceId, spanId, flags }: TraceContext): boolean =>
  TRACE_ID.test(traceId) &&
  SPAN_ID.test(spanId) &&
  !ALL_ZERO.test(traceId) &&
  !ALL_ZERO.test(spanId) &&
  Number.isInteger(flags) &&
  flags >= 0 &&
  flags <= 0xff

const hexOf = (bytes: Uint8Array): string =>
  Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')

const writeHex = (target: Uint8Array, at: number, hex: string): void => {
  for (let index = 0; index < hex.length; index += 2) {
    target[at + index / 2] = parseInt(hex.slice(index, index + 2), 16)
  }
}

/**
 * The wire form of `context` ({@link TRACE_CONTEXT_BYTES} bytes), or an empty array for `null`.
 * Throws `INVALID_ARGUMENT` for ids that are not lowercase hex of the right length, or all zero.
 */
export const encodeTraceContext = (context: TraceContext | null): Uint8Array => {
  if (context === null) return new Uint8Array(0)
  if (!isValidContext(context)) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      'a trace context needs a 32-digit and a 16-digit lowercase hex id, neither all zero, and flags 0–255',
    )
  }
  const bytes = new Uint8Array(TRACE_CONTEXT_BYTES)
  writeHex(bytes, 0, context.traceId)
  writeHex(bytes, 16, context.spanId)
  bytes[24] = context.flags
  return bytes
}

/**
 * The trace context of a wire item, or `null` for an empty one. Throws `BAD_MESSAGE` for any
 * other length, or an all-zero id.
 */
export const decodeTraceContext = (bytes: Uint8Array): TraceContext | null => {
  if (bytes.length === 0) return null
  if (bytes.length !== TRACE_CONTEXT_BYTES) {
    throw new WeftError(
      'BAD_MESSAGE',
      `a trace context is ${TRACE_CONTEXT_BYTES} bytes or none, not ${bytes.length}`,
    )
  }
  const context = {
    traceId: hexOf(bytes.subarray(0, 16)),
    spanId: hexOf(bytes.subarray(16, 24)),
    flags: bytes[24] as number,
  }
  if (ALL_ZERO.test(context.traceId) || ALL_ZERO.test(context.spanId)) {
    throw new WeftError('BAD_MESSAGE', 'a trace context may not have an all-zero id')
  }
  return context
}

/** Whether `count` contexts fit `message`: one per update, or at least one for a sync step 2. */
const fitsContexts = (message: TracedUpdate, count: number): boolean => {
  if (message.type === 'sync-step-2') return count >= 1
  return count === (message.type === 'updates' ? message.updates.length : 1)
}

const contextRule = (message: TracedUpdate): string =>
  message.type === 'sync-step-2'
    ? 'at least one context'
    : `one context per update (${message.type === 'updates' ? message.updates.length : 1})`

/**
 * A `traced` message for `message` with the contexts of its edits (`null`: none), oldest first.
 * Throws `INVALID_ARGUMENT` when their number does not fit the frame or a context is malformed.
 */
export const traceFrame = (
  message: TracedUpdate,
  contexts: ReadonlyArray<TraceContext | null>,
): TracedMessage => {
  if (!fitsContexts(message, contexts.length)) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `a traced ${message.type} needs ${contextRule(message)}, not ${contexts.length}`,
    )
  }
  return {
    type: 'traced',
    frame: encodeMessage(message),
    contexts: contexts.map(encodeTraceContext),
  }
}

/**
 * The frame a `traced` message carries and its edits' contexts. Throws `BAD_MESSAGE` when the
 * frame is not an `update`, `updates` or `sync-step-2`, the number of contexts does not fit it,
 * or a context is malformed.
 */
export const untraceFrame = (
  message: TracedMessage,
): { message: TracedUpdate; contexts: Array<TraceContext | null> } => {
  const inner = decodeMessage(message.frame)
  if (inner.type !== 'update' && inner.type !== 'updates' && inner.type !== 'sync-step-2') {
    throw new WeftError(
      'BAD_MESSAGE',
      `a traced frame holds an update, updates or sync-step-2, not ${inner.type}`,
    )
  }
  if (!fitsContexts(inner, message.contexts.length)) {
    throw new WeftError(
      'BAD_MESSAGE',
      `a traced ${inner.type} takes ${contextRule(inner)}, not ${message.contexts.length}`,
    )
  }
  return { message: inner, contexts: message.contexts.map(decodeTraceContext) }
}
