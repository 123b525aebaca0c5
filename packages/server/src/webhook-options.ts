/** Webhook endpoints: their options, defaults and validation. */
import { WeftError } from '@weft/protocol'
import { dropUndefined } from './relay-options.js'

/** One endpoint that receives the change feed as signed HTTP POSTs. */
export interface WebhookEndpointOptions {
  /**
   * Stable id, 1 to 64 of `A-Z a-z 0-9 _ . -`. It names the endpoint's cursor and dead letters in
   * the store: keep it when changing the URL, or the endpoint starts again.
   */
  readonly id: string
  /** `http://` or `https://` URL the deliveries are posted to. */
  readonly url: string
  /**
   * Secrets (16+ characters) the deliveries are signed with, one `v1` signature each; list the
   * new and the old one while receivers switch.
   */
  readonly secrets: readonly string[]
  /** Document name patterns (`*` within a segment, `**` across) whose changes it gets. Default all. */
  readonly docs?: readonly string[]
  /** Most events in one delivery. Default 100. */
  readonly maxBatchEvents?: number
  /** Time a delivery may take before it counts as failed. Default 10 s. */
  readonly timeoutMs?: number
  /** Attempts of one delivery before its events go to the dead-letter list. Default 8. */
  readonly maxAttempts?: number
  /** Upper bound of the first retry's delay (then doubling, with full jitter). Default 1 s. */
  readonly initialBackoffMs?: number
  /** Largest retry delay. Default 5 minutes. */
  readonly maxBackoffMs?: number
  /** Where a new endpoint starts: `head` (changes from now on, default) or `oldest` (all kept). */
  readonly start?: 'head' | 'oldest'
}

/** Endpoint options with defaults filled in. */
export type ResolvedWebhookEndpoint = Required<WebhookEndpointOptions>

const DEFAULTS = {
  docs: ['**'],
  maxBatchEvents: 100,
  timeoutMs: 10_000,
  maxAttempts: 8,
  initialBackoffMs: 1000,
  maxBackoffMs: 5 * 60_000,
  start: 'head',
} as const

const LIMITS = {
  maxBatchEvents: [1, 1000],
  timeoutMs: [1, 300_000],
  maxAttempts: [1, 100],
  initialBackoffMs: [1, 3_600_000],
  maxBackoffMs: [1, 86_400_000],
} as const

/** Checks every endpoint and fills in defaults; throws `INVALID_ARGUMENT` naming the problem. */
export const resolveWebhookEndpoints = (endpoints: unknown): ResolvedWebhookEndpoint[] => {
  if (!Array.isArray(endpoints)) {
    throw new WeftError('INVALID_ARGUMENT', 'webhook endpoints must be a list')
  }
  const ids = new Set<string>()
  return endpoints.map((given: Partial<WebhookEndpointOptions> | null, index) => {
    const where = `endpoints[${index}]`
    const bad = (message: string): WeftError =>
      new WeftError('INVALID_ARGUMENT', `${where}.${message}`)
    if (typeof given !== 'object' || given === null) throw bad('must be an object')
    const resolved = { ...DEFAULTS, ...dropUndefined(given) } as ResolvedWebhookEndpoint
    if (typeof resolved.id !== 'string' || !/^[\w.-]{1,64}$/.test(resolved.id)) {
      throw bad('id must be 1 to 64 letters, digits, "_", "." or "-"')
    }
    if (ids.has(resolved.id)) throw bad(`id "${resolved.id}" is used twice`)
    ids.add(resolved.id)
    let url: URL | null = null
    try {
      url = new URL(resolved.url)
    } catch {
      url = null
    }
    if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw bad('url must be an http:// or https:// URL')
    }
    const { secrets, docs } = resolved
    if (
      !Array.isArray(secrets) ||
      secrets.length === 0 ||
      !secrets.every((secret) => typeof secret === 'string' && secret.length >= 16)
    ) {
      throw bad('secrets must list one or more secrets of at least 16 characters')
    }
    if (
      !Array.isArray(docs) ||
      docs.length === 0 ||
      !docs.every((doc) => typeof doc === 'string' && doc.length > 0)
    ) {
      throw bad('docs must list document name patterns')
    }
    for (const [key, [min, max]] of Object.entries(LIMITS)) {
      const value = resolved[key as keyof typeof LIMITS]
      if (!Number.isSafeInteger(value) || value < min || value > max) {
        throw bad(`${key} must be an integer from ${min} to ${max}, got ${String(value)}`)
      }
    }
    if (resolved.start !== 'head' && resolved.start !== 'oldest') {
      throw bad('start must be "head" or "oldest"')
    }
    return resolved
  })
}
