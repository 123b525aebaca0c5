/**
 * OpenTelemetry spans of the relay through `@opentelemetry/api`: without an SDK installed they
 * are no-ops. Each sender's integrated updates get a `weft.update` span (from receipt until its
 * `saved`), with children `weft.apply`, `weft.fanout`, `weft.persist` and `weft.ack`. Its parent
 * is the trace context the client sent with the newest of those edits (`traced` frames), or the
 * connection's W3C `traceparent` (upgrade header, or query parameter of the socket URL). The HTTP API, in-process writes, the
 * change feed (each event's `traceparent`) and webhook deliveries continue the same traces.
 */
import {
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api'
import type { TraceContext } from '@weft/protocol'
import type { IncomingMessage } from 'node:http'

const tracer = trace.getTracer('@weft/server')

/** The trace context a connection's client sent (`traceparent`, `tracestate`), or the root. */
export const traceContextOf = (request: IncomingMessage): Context => {
  const query = new URL(request.url ?? '/', 'http://relay').searchParams
  const header = (name: string): string | undefined => {
    const value = request.headers[name]
    return typeof value === 'string' ? value : undefined
  }
  const traceparent = header('traceparent') ?? query.get('traceparent') ?? undefined
  if (traceparent === undefined) return ROOT_CONTEXT
  const tracestate = header('tracestate') ?? query.get('tracestate') ?? undefined
  return propagation.extract(ROOT_CONTEXT, {
    traceparent,
    ...(tracestate === undefined ? {} : { tracestate }),
  })
}

/** A started span and the context its children start in. */
export interface Traced {
  readonly span: Span
  readonly context: Context
}

/** Most links a `weft.update` span keeps to the other edits it integrated. */
const MAX_LINKS = 32

/** The remote context of a trace context the client sent in a `traced` frame. */
export const contextOfTrace = ({ traceId, spanId, flags }: TraceContext): Context =>
  trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: flags, isRemote: true })

/**
 * Starts `weft.update` for updates received at `receivedAtMs`; null when nothing records it (no
 * SDK, or not sampled), so the hot path makes no child spans. Its parent is the newest of the
 * edits' own trace contexts (`traces`, from `traced` frames), linking to the others (up to
 * 32), or else `connection`, the context the client's socket sent.
 */
export const startUpdateSpan = (
  connection: Context,
  traces: readonly TraceContext[],
  receivedAtMs: number,
  attributes: Attributes,
): Traced | null => {
  const newest = traces.at(-1)
  const parent = newest === undefined ? connection : contextOfTrace(newest)
  const links: Link[] = []
  for (let index = traces.length - 2; index >= 0 && links.length < MAX_LINKS; index -= 1) {
    const { traceId, spanId, flags } = traces[index] as TraceContext
    links.push({ context: { traceId, spanId, traceFlags: flags, isRemote: true } })
  }
  const span = tracer.startSpan(
    'weft.update',
    { kind: SpanKind.SERVER, startTime: receivedAtMs, attributes, links },
    parent,
  )
  if (!span.isRecording()) return null
  return { span, context: trace.setSpan(parent, span) }
}

/** Runs `work` inside a child span named `name` of `parent` (just runs it without one). */
export const inChildSpan = <T>(
  parent: Traced | null,
  name: string,
  attributes: Attributes,
  work: () => T,
): T => {
  if (parent === null) return work()
  const span = tracer.startSpan(name, { attributes }, parent.context)
  try {
    return work()
  } finally {
    span.end()
  }
}

/** Starts a child span of `parent` that the caller ends (`kind` default internal). */
export const startChildSpan = (
  parent: Context,
  name: string,
  attributes: Attributes = {},
  kind: SpanKind = SpanKind.INTERNAL,
): Span => tracer.startSpan(name, { attributes, kind }, parent)

/** The W3C `traceparent` of `span` (`00-<trace id>-<span id>-<flags>`). */
export const traceparentOf = (span: Span): string => {
  const { traceId, spanId, traceFlags } = span.spanContext()
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/**
 * The context a stored W3C `traceparent` continues (parsed here, whatever propagator the SDK
 * uses), or the root for none or a malformed one.
 */
export const contextOfTraceparent = (traceparent: string | undefined): Context => {
  const match = traceparent === undefined ? null : TRACEPARENT.exec(traceparent)
  if (match === null) return ROOT_CONTEXT
  const [, traceId = '', spanId = '', flags = '00'] = match
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return ROOT_CONTEXT
  const spanContext = { traceId, spanId, traceFlags: parseInt(flags, 16), isRemote: true }
  return trace.setSpanContext(ROOT_CONTEXT, spanContext)
}

/** Ends `span` as failed with `error`. */
export const endFailed = (span: Span, error: { code?: string; message: string }): void => {
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message })
  if (error.code !== undefined) span.setAttribute('weft.error', error.code)
  span.end()
}
