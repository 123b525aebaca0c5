/** ServiceClientOptions: what WeftServiceClient accepts, its defaults, and their validation. */
import { WeftError } from '@weft/protocol'

/** A bearer token, or a function returning one (asked before every request, so it can refresh). */
export type TokenSource = string | (() => string | Promise<string>)

/** Options of {@link WeftServiceClient}. */
export interface ServiceClientOptions {
  /**
   * The relay's HTTP address, `http://` or `https://`, optionally with a path prefix (a proxy
   * mounting the relay under `/weft`): `/v1/…` is appended. Required.
   */
  readonly url: string
  /** Sent as `Authorization: Bearer <token>`. Default: none (a relay in open mode). */
  readonly token?: TokenSource
  /** The fetch implementation. Default: the global `fetch`. */
  readonly fetch?: typeof globalThis.fetch
  /**
   * Longest a request may take, answer body included, in ms; a feed read's `waitMs` is added on
   * top. Default 30,000.
   */
  readonly timeoutMs?: number
}

/** {@link ServiceClientOptions} with defaults filled in. */
export interface ResolvedServiceClientOptions {
  /** Base URL without a trailing slash. */
  readonly baseUrl: string
  readonly token: TokenSource | undefined
  readonly fetch: typeof globalThis.fetch
  readonly timeoutMs: number
}

const invalid = (message: string): WeftError => new WeftError('INVALID_ARGUMENT', message)

const checkUrl = (url: unknown): string => {
  let parsed: URL | null = null
  try {
    parsed = typeof url === 'string' ? new URL(url) : null
  } catch {
    parsed = null
  }
  if (parsed === null || !/^https?:$/.test(parsed.protocol)) {
    throw invalid(`options.url must be an http:// or https:// URL, got ${JSON.stringify(url)}`)
  }
  if (parsed.search !== '' || parsed.hash !== '' || parsed.username !== '') {
    throw invalid('options.url must not carry a query, a fragment or credentials')
  }
  return parsed.href.replace(/\/+$/, '')
}

/** Fills in defaults and validates once; a bad option throws `INVALID_ARGUMENT` naming it. */
export const resolveServiceClientOptions = (
  options: ServiceClientOptions,
): ResolvedServiceClientOptions => {
  if (typeof options !== 'object' || options === null) {
    throw invalid('WeftServiceClient needs an options object: { url, token?, fetch?, timeoutMs? }')
  }
  const baseUrl = checkUrl(options.url)
  const { token } = options
  if (
    token !== undefined &&
    !(typeof token === 'string' && token.length > 0) &&
    typeof token !== 'function'
  ) {
    throw invalid('options.token must be a non-empty string or a function returning one')
  }
  const fetchImpl = options.fetch ?? globalThis.fetch
  if (typeof fetchImpl !== 'function') {
    throw invalid('options.fetch must be a fetch function (there is no global fetch here)')
  }
  const timeoutMs = options.timeoutMs ?? 30_000
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
    throw invalid(`options.timeoutMs must be a positive integer of ms, got ${String(timeoutMs)}`)
  }
  return { baseUrl, token, fetch: fetchImpl, timeoutMs }
}
