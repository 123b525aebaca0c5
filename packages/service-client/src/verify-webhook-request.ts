/**
 * verifyWebhookRequest: checks a webhook request's `weft-signature` against its raw body, then
 * parses the delivery.
 */
import { verifyWebhook, WEBHOOK_SIGNATURE_HEADER, WeftError } from '@weft/protocol'
import { parseWebhookDelivery, type WebhookDelivery } from './webhook-delivery.js'

/** The headers of a request: Fetch `Headers`, or Node's `request.headers`. */
export type RequestHeaders =
  Headers | Readonly<Record<string, string | readonly string[] | undefined>>

/** What {@link verifyWebhookRequest} decided. */
export type WebhookRequestVerification =
  | { readonly ok: true; readonly delivery: WebhookDelivery; readonly timestampSec: number }
  | { readonly ok: false; readonly reason: string }

/** The `weft-signature` header of a request (the first, if repeated). */
const signatureOf = (headers: RequestHeaders): string | undefined => {
  if (headers instanceof Headers) return headers.get(WEBHOOK_SIGNATURE_HEADER) ?? undefined
  // Node lowercases header names; a record built by hand may not have.
  const key = Object.keys(headers).find((name) => name.toLowerCase() === WEBHOOK_SIGNATURE_HEADER)
  const value = key === undefined ? undefined : headers[key]
  return typeof value === 'string' ? value : value?.[0]
}

/**
 * Verifies a webhook request and parses its delivery. `body` is the raw body exactly as
 * received (bytes or text, before any JSON parsing: re-serialized JSON does not verify);
 * `headers` the request's headers; `secret` the endpoint's secret, or several while you rotate
 * it (any one matching is enough). Refuses a missing or malformed `weft-signature`, a timestamp
 * more than `toleranceSec` (default 300) from now, a signature no secret matches, and a body
 * that is not a delivery. Answer 2xx only for `ok`; a refusal is a value, never a throw.
 */
export const verifyWebhookRequest = async (options: {
  readonly body: Uint8Array | string
  readonly headers: RequestHeaders
  readonly secret: string | readonly string[]
  readonly toleranceSec?: number
  readonly nowSec?: number
}): Promise<WebhookRequestVerification> => {
  const { body, headers, secret, toleranceSec, nowSec } = options
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new WeftError('INVALID_ARGUMENT', 'body must be the raw request body (bytes or text)')
  }
  if (typeof headers !== 'object' || headers === null) {
    throw new WeftError('INVALID_ARGUMENT', 'headers must be the request headers')
  }
  const secrets = typeof secret === 'string' ? [secret] : secret
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw new WeftError('INVALID_ARGUMENT', 'secret must be a string or a non-empty array of them')
  }
  const header = signatureOf(headers)
  let refusal = 'no secret to verify with'
  let verified: number | null = null
  for (const each of secrets as readonly string[]) {
    const result = await verifyWebhook({
      body,
      header,
      secret: each,
      ...(toleranceSec === undefined ? {} : { toleranceSec }),
      ...(nowSec === undefined ? {} : { nowSec }),
    })
    if (result.ok) {
      verified = result.timestampSec
      break
    }
    refusal = result.reason
  }
  if (verified === null) return { ok: false, reason: refusal }
  try {
    return { ok: true, delivery: parseWebhookDelivery(body), timestampSec: verified }
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) }
  }
}
