/**
 * Webhook signatures: how a relay signs each delivery and how a receiver checks it. The header
 * is `weft-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, with one `v1`
 * per secret the endpoint has (two while a secret is being rotated). WebCrypto only, so it runs
 * in Node and browsers alike.
 */

/** The HTTP header carrying the signature. */
export const WEBHOOK_SIGNATURE_HEADER = 'weft-signature'

/** Default allowed age (and clock difference) of a signature, in seconds. */
export const WEBHOOK_TOLERANCE_SEC = 300

const encoder = new TextEncoder()

const hmacHex = async (secret: string, message: Uint8Array<ArrayBuffer>): Promise<string> => {
  const key = await globalThis.crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  const signature = new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', key, message))
  return Array.from(signature, (byte) => byte.toString(16).padStart(2, '0')).join('')
}

/** `<t>.<body>` as bytes: what is signed. */
const signedBytes = (timestampSec: number, body: Uint8Array | string): Uint8Array<ArrayBuffer> => {
  const prefix = encoder.encode(`${timestampSec}.`)
  const bytes = typeof body === 'string' ? encoder.encode(body) : body
  const joined = new Uint8Array(prefix.length + bytes.length)
  joined.set(prefix)
  joined.set(bytes, prefix.length)
  return joined
}

/** The signature header value for `body` sent at `timestampSec`, signed with every secret. */
export const signWebhook = async (
  secrets: readonly string[],
  body: Uint8Array | string,
  timestampSec: number,
): Promise<string> => {
  const message = signedBytes(timestampSec, body)
  const signatures = await Promise.all(secrets.map((secret) => hmacHex(secret, message)))
  return [`t=${timestampSec}`, ...signatures.map((hex) => `v1=${hex}`)].join(',')
}

/** Compares two strings in time that depends only on their length. */
const sameText = (a: string, b: string): boolean => {
  if (a.length !== b.length) return false
  let difference = 0
  for (let index = 0; index < a.length; index++)
    difference |= a.charCodeAt(index) ^ b.charCodeAt(index)
  return difference === 0
}

/** What {@link verifyWebhook} decided. */
export type WebhookVerification =
  | { readonly ok: true; readonly timestampSec: number }
  | { readonly ok: false; readonly reason: string }

/**
 * Checks a delivery: `body` exactly as received (raw bytes or text, before any JSON parsing),
 * `header` the `weft-signature` header, `secret` the endpoint's secret. Refuses a missing or
 * malformed header, a timestamp more than `toleranceSec` (default 300) from `nowSec`, and a
 * signature that does not match.
 */
export const verifyWebhook = async (options: {
  readonly body: Uint8Array | string
  readonly header: string | null | undefined
  readonly secret: string
  readonly toleranceSec?: number
  readonly nowSec?: number
}): Promise<WebhookVerification> => {
  const { body, header, secret } = options
  const toleranceSec = options.toleranceSec ?? WEBHOOK_TOLERANCE_SEC
  const nowSec = options.nowSec ?? Math.floor(Date.now() / 1000)
  if (typeof secret !== 'string' || secret.length === 0) {
    return { ok: false, reason: 'no secret to verify with' }
  }
  if (typeof header !== 'string' || header.length === 0) {
    return { ok: false, reason: `no ${WEBHOOK_SIGNATURE_HEADER} header` }
  }
  let timestampSec: number | null = null
  const signatures: string[] = []
  for (const part of header.split(',')) {
    const [name, value = ''] = part.trim().split('=', 2)
    if (name === 't' && /^\d{1,12}$/.test(value)) timestampSec = Number(value)
    else if (name === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value)
  }
  if (timestampSec === null || signatures.length === 0) {
    return { ok: false, reason: `the ${WEBHOOK_SIGNATURE_HEADER} header is malformed` }
  }
  if (Math.abs(nowSec - timestampSec) > toleranceSec) {
    return {
      ok: false,
      reason: `the signature is older than ${toleranceSec} s (or from the future)`,
    }
  }
  const expected = await hmacHex(secret, signedBytes(timestampSec, body))
  if (!signatures.some((signature) => sameText(signature, expected))) {
    return { ok: false, reason: 'the signature does not match: wrong secret or altered body' }
  }
  return { ok: true, timestampSec }
}
