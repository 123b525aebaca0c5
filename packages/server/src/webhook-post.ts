/** postWebhook: one signed delivery to an endpoint, and what became of it. */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { signWebhook, WEBHOOK_SIGNATURE_HEADER } from '@weft/protocol'
import type { feedEventJson } from './feed-event.js'
import { contextOfTraceparent, startChildSpan, traceparentOf } from './tracing.js'
import type { ResolvedWebhookEndpoint } from './webhook-options.js'

/** A feed event as a delivery carries it. */
export type WebhookEventJson = ReturnType<typeof feedEventJson>

/** One attempt of one delivery. */
export interface WebhookRequest {
  readonly delivery: string
  readonly events: readonly WebhookEventJson[]
  readonly attempt: number
  /** Sent again by an operator from the dead letters (`weft-replay: true`). */
  readonly replay: boolean
  /** Aborts the attempt (the dispatcher stopping). */
  readonly signal: AbortSignal
}

/**
 * Posts `{ endpoint, delivery, attempt, events }`, signed with every secret of the endpoint;
 * resolves with why it failed (a status, a network error code, a timeout), or null for a 2xx.
 * Redirects are not followed: they fail the attempt. The attempt is a `weft.webhook` client span
 * in the trace of the first event that has one, and its `traceparent` header continues it (the
 * event's own when nothing records spans).
 */
export const postWebhook = async (
  endpoint: ResolvedWebhookEndpoint,
  fetch: typeof globalThis.fetch,
  request: WebhookRequest,
): Promise<string | null> => {
  const { delivery, events, attempt } = request
  const cause = events.find((event) => event.traceparent !== undefined)?.traceparent
  const span = startChildSpan(
    contextOfTraceparent(cause),
    'weft.webhook',
    {
      'weft.webhook.endpoint': endpoint.id,
      'weft.webhook.delivery': delivery,
      'weft.webhook.attempt': attempt,
      'weft.webhook.events': events.length,
    },
    SpanKind.CLIENT,
  )
  const traceparent = span.isRecording() ? traceparentOf(span) : cause
  const failure = await post(endpoint, fetch, request, traceparent)
  if (failure !== null) span.setStatus({ code: SpanStatusCode.ERROR, message: failure })
  span.end()
  return failure
}

const post = async (
  endpoint: ResolvedWebhookEndpoint,
  fetch: typeof globalThis.fetch,
  request: WebhookRequest,
  traceparent: string | undefined,
): Promise<string | null> => {
  const { id, url, secrets, timeoutMs } = endpoint
  const { delivery, events, attempt, replay, signal } = request
  const body = JSON.stringify({ endpoint: id, delivery, attempt, events })
  const signature = await signWebhook(secrets, body, Math.floor(Date.now() / 1000))
  try {
    const response = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'weft-relay',
        [WEBHOOK_SIGNATURE_HEADER]: signature,
        'weft-delivery': delivery,
        'weft-attempt': String(attempt),
        ...(replay ? { 'weft-replay': 'true' } : {}),
        ...(traceparent === undefined ? {} : { traceparent }),
      },
      body,
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    })
    await response.body?.cancel()
    return response.ok ? null : `HTTP ${response.status}`
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') return `no answer within ${timeoutMs} ms`
    const cause = (error as { cause?: { code?: string } } | null)?.cause
    return cause?.code ?? (error as Error).message ?? String(error)
  }
}

/** Waits `ms`, or less if `signal` aborts. */
export const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
