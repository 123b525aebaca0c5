/**
 * HTTP spans: each request the relay's HTTP routes take gets a `weft.http` server span, a child
 * of the caller's `traceparent`; the writes the request makes start under it.
 */
import type { IncomingMessage } from 'node:http'
import { SpanKind, SpanStatusCode, trace, type Context } from '@opentelemetry/api'
import type { HttpHandler } from './route-table.js'
import { startChildSpan, traceContextOf } from './tracing.js'

const contexts = new WeakMap<IncomingMessage, Context>()

/**
 * The context a request's work runs in: its `weft.http` span when one records, else the
 * caller's trace context (so writes still join the caller's trace), else the root.
 */
export const requestTraceContext = (request: IncomingMessage): Context =>
  contexts.get(request) ?? traceContextOf(request)

/**
 * Wraps `handler` so each request it takes under one of `prefixes` (`/v1`) is traced: a
 * `weft.http` span from the request until its answer is sent (or the connection closes), with
 * the method, path and status; 5xx answers mark it failed. Other paths start no span.
 */
export const traceHttp =
  (handler: HttpHandler, prefixes: readonly string[]): HttpHandler =>
  (request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/'
    const owned = prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))
    if (!owned) return handler(request, response)
    const parent = traceContextOf(request)
    const span = startChildSpan(
      parent,
      'weft.http',
      { 'http.request.method': request.method ?? 'GET', 'url.path': path },
      SpanKind.SERVER,
    )
    if (span.isRecording()) contexts.set(request, trace.setSpan(parent, span))
    const taken = handler(request, response)
    response.once('close', () => {
      const status = response.statusCode
      span.setAttribute('http.response.status_code', status)
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
      span.end()
    })
    return taken
  }
