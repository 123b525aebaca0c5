/**
 * guardRoutes: what runs before a route group sees a request — the per-address request rate,
 * then the browser origin (CORS: preflights, `Access-Control-Allow-Origin`, refusals).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { WeftError } from '@weft/protocol'
import type { AddressRateLimit } from './address-rate-limit.js'
import { sendHttp, sendHttpError } from './http-support.js'
import type { HttpHandler, HttpMethod } from './route-table.js'

/** How long a browser may cache a preflight's answer, in seconds. */
export const CORS_MAX_AGE_SEC = 600

/** Request headers a browser page may send cross-origin (beyond the CORS-safelisted ones). */
const ALLOWED_HEADERS = 'Authorization, Content-Type, X-Correlation-Id, Last-Event-ID'

/** Answer headers a page may read (beyond the safelisted ones). */
const EXPOSED_HEADERS = 'X-Correlation-Id, Retry-After'

/** What {@link guardRoutes} checks. */
export interface RouteGuard {
  /** The paths it guards: the prefix and everything under `<prefix>/`. */
  readonly prefix: string
  /** Browser origins that may call; null: no CORS answers and no origin refused. */
  readonly allowedOrigins: readonly string[] | null
  /** The methods the guarded routes answer, for preflights. */
  readonly methods: readonly HttpMethod[]
  /** The request rate per client address; null: none. */
  readonly rateLimit: AddressRateLimit | null
  /** The client address of a request (the one a trusted proxy forwarded, else the socket's). */
  readonly clientAddress: (request: IncomingMessage) => string
}

/**
 * Wraps `inner` so that, under `guard.prefix`, a request over its address's rate is answered 429
 * `RATE_LIMITED` with `Retry-After`; one whose `Origin` is not allowed 403 `ORIGIN_NOT_ALLOWED`;
 * a preflight from an allowed origin 204 with the `Access-Control-Allow-*` headers; and every
 * other request goes to `inner` with `Access-Control-Allow-Origin` for an allowed origin.
 * Requests without `Origin` (servers, curl) are never refused for it.
 */
export const guardRoutes = (inner: HttpHandler, guard: RouteGuard): HttpHandler => {
  const { prefix, allowedOrigins, rateLimit } = guard
  const allowed = allowedOrigins === null ? null : new Set(allowedOrigins)
  const methods = [...new Set(guard.methods)].join(', ')
  return (request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/'
    if (path !== prefix && !path.startsWith(`${prefix}/`)) return false
    const origin = request.headers.origin
    const cors = corsHeaders(allowed, origin)
    const waitMs = rateLimit?.admit(guard.clientAddress(request)) ?? 0
    if (waitMs > 0) {
      const retryAfterSec = String(Math.max(1, Math.ceil(waitMs / 1000)))
      refuse(
        response,
        new WeftError(
          'RATE_LIMITED',
          `too many requests from this address: retry after ${retryAfterSec} s`,
        ),
        { ...(cors ?? varyOnly(allowed)), 'retry-after': retryAfterSec },
      )
      return true
    }
    if (cors === null) {
      refuse(
        response,
        new WeftError(
          'ORIGIN_NOT_ALLOWED',
          `origin ${origin ?? ''} may not call this relay's HTTP API: add it to allowedOrigins (--allowed-origins)`,
        ),
        varyOnly(allowed),
      )
      return true
    }
    if (request.method === 'OPTIONS' && origin !== undefined && allowed !== null) {
      if (request.headers['access-control-request-method'] !== undefined) {
        request.resume()
        sendHttp(response, 204, undefined, {
          ...cors,
          'access-control-allow-methods': methods,
          'access-control-allow-headers': ALLOWED_HEADERS,
          'access-control-max-age': String(CORS_MAX_AGE_SEC),
        })
        return true
      }
    }
    for (const [name, value] of Object.entries(cors)) response.setHeader(name, value)
    return inner(request, response)
  }
}

/**
 * The CORS headers of an answer to `origin`: none without a list or without an `Origin`, the
 * allow headers for a listed origin, null for an origin to refuse.
 */
const corsHeaders = (
  allowed: ReadonlySet<string> | null,
  origin: string | undefined,
): Record<string, string> | null => {
  if (allowed === null) return {}
  if (origin === undefined) return varyOnly(allowed)
  if (!allowed.has(origin)) return null
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': EXPOSED_HEADERS,
    vary: 'Origin',
  }
}

/** With a list, every answer depends on `Origin`: caches must not hand one origin's to another. */
const varyOnly = (allowed: ReadonlySet<string> | null): Record<string, string> =>
  allowed === null ? {} : { vary: 'Origin' }

/** Answers `error` without reading the request's body (it is drained, not parsed). */
const refuse = (
  response: ServerResponse,
  error: WeftError,
  headers: Record<string, string>,
): void => {
  response.req.resume()
  sendHttpError(response, error, headers)
}
