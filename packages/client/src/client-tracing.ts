/**
 * EditTraces: a `weft.edit` span for each local transaction, from the edit until the relay
 * reports it durable (`saved`) or refuses it, through `@opentelemetry/api`. Without an SDK in
 * the app the tracer records nothing and no span is kept. The spans' contexts travel with the
 * edits (`traced` frames, protocol version 4), so the relay's spans join the same traces.
 */
import {
  context as activeContext,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api'
import { WeftError, type TraceContext } from '@weft/protocol'

/** Spans kept open per document; edits beyond them (a long time offline) are not traced. */
export const MAX_OPEN_EDIT_SPANS = 1_000

/** The trace contexts sent with one frame at most: the relay parents on one and links 32. */
export const MAX_FRAME_TRACES = 33

/** How the client traces: `false` for not at all, or the provider to use instead of the global one. */
export type TracingOption = false | { tracerProvider?: TracerProvider }

/**
 * The tracer of `option` (`ClientOptions.tracing`), or `null` when tracing is off. Throws
 * `INVALID_ARGUMENT` for anything but `false`, `undefined` or `{ tracerProvider? }`.
 */
export const resolveTracing = (option: unknown): Tracer | null => {
  if (option === false) return null
  if (option !== undefined && (typeof option !== 'object' || option === null)) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      'options.tracing must be false or { tracerProvider }, an OpenTelemetry TracerProvider',
    )
  }
  const provider = (option as { tracerProvider?: unknown } | undefined)?.tracerProvider
  if (provider === undefined) return trace.getTracerProvider().getTracer('@weft/client')
  if (typeof (provider as Partial<TracerProvider> | null)?.getTracer !== 'function') {
    throw new WeftError(
      'INVALID_ARGUMENT',
      'options.tracing.tracerProvider must be an OpenTelemetry TracerProvider (with getTracer)',
    )
  }
  return (provider as TracerProvider).getTracer('@weft/client')
}

/**
 * An edit being traced: its span when this client made it, or only the context another tab sent
 * with it (that tab's span ends there, when the hub passes the acknowledgement on).
 */
interface TracedEdit {
  readonly span: Span | null
  readonly context: TraceContext
}

const contextOfSpan = (span: Span): TraceContext => {
  const { traceId, spanId, traceFlags } = span.spanContext()
  return { traceId, spanId, flags: traceFlags & 0xff }
}

/** One document's traced edits, by the ref of the outbox entry that holds each. */
export class EditTraces {
  readonly #tracer: Tracer | null
  readonly #doc: string
  /** By ref; a merged entry's ref holds the edits of every entry merged into it. */
  readonly #open = new Map<number, TracedEdit[]>()
  /** Spans begun and not ended, and adopted contexts not settled. */
  #count = 0

  constructor(tracer: Tracer | null, doc: string) {
    this.#tracer = tracer
    this.#doc = doc
  }

  /**
   * Starts the span of a local transaction of `bytes`, under the active context (an app span
   * around the user's action becomes its parent). `null` when nothing records it, or when
   * {@link MAX_OPEN_EDIT_SPANS} edits are traced and unsaved already.
   */
  begin(bytes: number): Span | null {
    if (this.#tracer === null || this.#count >= MAX_OPEN_EDIT_SPANS) return null
    const span = this.#tracer.startSpan(
      'weft.edit',
      { kind: SpanKind.PRODUCER, attributes: { 'weft.doc': this.#doc, 'weft.bytes': bytes } },
      activeContext.active(),
    )
    if (!span.isRecording()) return null
    this.#count += 1
    return span
  }

  /** The edit of `span` is outbox entry `ref`. */
  bind(ref: number, span: Span | null): void {
    if (span === null) return
    span.setAttribute('weft.ref', ref)
    this.#add(ref, { span, context: contextOfSpan(span) })
  }

  /** Entry `ref` is another tab's edit, sent with `context`: it travels on with it. */
  adopt(ref: number, context: TraceContext | null): void {
    if (context === null || this.#count >= MAX_OPEN_EDIT_SPANS) return
    this.#count += 1
    this.#add(ref, { span: null, context })
  }

  /** The context to send with entry `ref`: its newest edit's, or `null`. */
  contextOf(ref: number): TraceContext | null {
    return this.#open.get(ref)?.at(-1)?.context ?? null
  }

  /** The contexts of up to {@link MAX_FRAME_TRACES} newest traced entries, oldest first. */
  newestContexts(): TraceContext[] {
    const refs = [...this.#open.keys()].sort((a, b) => a - b).slice(-MAX_FRAME_TRACES)
    return refs.map((ref) => this.contextOf(ref) as TraceContext)
  }

  /** Entries `refs` went out on the wire (again, after a reconnect). */
  sent(refs: readonly number[]): void {
    for (const ref of refs) {
      for (const { span } of this.#open.get(ref) ?? []) span?.addEvent('weft.sent')
    }
  }

  /** The relay reported entries `refs` durable: their spans end. */
  saved(refs: readonly number[]): void {
    for (const ref of refs) this.#end(ref, (span) => span.addEvent('weft.saved'))
  }

  /** The relay refused entry `ref` (or it could never be sent): its spans end as failed. */
  refused(ref: number, code: string, reason: string): void {
    this.#end(ref, (span) => {
      span.setAttribute('weft.error', code)
      span.setStatus({ code: SpanStatusCode.ERROR, message: reason })
    })
  }

  /** Entries `refs` were merged into entry `into`: their edits settle with it. */
  merged(refs: readonly number[], into: number): void {
    for (const ref of refs) {
      const edits = this.#open.get(ref)
      if (edits === undefined || ref === into) continue
      this.#open.delete(ref)
      for (const edit of edits) this.#add(into, edit)
    }
  }

  /** The document closed with edits unsaved (they stay in the local store): their spans end. */
  closed(): void {
    for (const ref of [...this.#open.keys()]) {
      this.#end(ref, (span) => span.setAttribute('weft.unsaved', true))
    }
  }

  #add(ref: number, edit: TracedEdit): void {
    const edits = this.#open.get(ref)
    if (edits === undefined) this.#open.set(ref, [edit])
    else edits.push(edit)
  }

  #end(ref: number, mark: (span: Span) => void): void {
    const edits = this.#open.get(ref)
    if (edits === undefined) return
    this.#open.delete(ref)
    this.#count -= edits.length
    for (const { span } of edits) {
      if (span === null) continue
      mark(span)
      span.end()
    }
  }
}
