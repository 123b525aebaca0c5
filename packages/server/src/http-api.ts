/**
 * @weft/server/http: the relay's HTTP routes — the `/v1` API for backend services and the
 * `/admin` operator routes — as one request handler to mount on any Node HTTP server.
 */
import { WeftError } from '@weft/protocol'
import { AddressRateLimit } from './address-rate-limit.js'
import { adminRoutes } from './admin-routes.js'
import { guardRoutes } from './api-guard.js'
import { apiRoutes } from './api-routes.js'
import { traceHttp } from './http-tracing.js'
import type { Relay } from './relay.js'
import { checkAllowedOrigins } from './relay-options.js'
import { serveRoutes, type HttpHandler } from './route-table.js'
import type { WebhookDispatcher } from './webhook-dispatcher.js'

export type { HttpHandler } from './route-table.js'
export { hasBearerToken } from './http-support.js'

/** Options of {@link createHttpApi}. */
export interface HttpApiOptions {
  /** Largest request body accepted (413 beyond). Default 16 MiB. */
  readonly maxBodyBytes?: number
  /** Bearer token of the `/admin` routes. Default none: every `/admin` path answers 404. */
  readonly adminToken?: string | undefined
  /** The dispatcher `/admin/webhooks` reports on and replays. Default none: no such routes. */
  readonly webhooks?: WebhookDispatcher | undefined
  /**
   * Browser origins that may call `/v1` (`https://app.example.com`): they get CORS answers
   * (preflights, `Access-Control-Allow-Origin`), other origins 403 `ORIGIN_NOT_ALLOWED`, and
   * requests without `Origin` (servers) pass. `null`: no CORS answers, so browsers keep pages of
   * other origins from reading `/v1`, and no request is refused for its origin. Default: the
   * relay's `allowedOrigins`.
   */
  readonly allowedOrigins?: readonly string[] | null | undefined
  /**
   * `/v1` requests a second one client address may make, twice that in a burst; beyond, 429
   * `RATE_LIMITED` with `Retry-After`. The address is the relay's `clientAddress` (the one a
   * trusted proxy forwards). 0: no limit. Default 200.
   */
  readonly maxRequestsPerSecond?: number | undefined
  /**
   * Client addresses whose request rate is tracked at once; past it the least recently seen is
   * forgotten (bounded memory). Default 10,000.
   */
  readonly maxTrackedAddresses?: number | undefined
}

/** Default of {@link HttpApiOptions.maxRequestsPerSecond}. */
export const DEFAULT_MAX_REQUESTS_PER_SECOND = 200

/**
 * Builds the handler of `relay`'s HTTP routes: it takes requests under `/v1` and `/admin` (and
 * answers them itself, errors included) and returns false for every other path. Each request
 * it takes gets a `weft.http` span, a child of the request's `traceparent` header. Throws
 * `INVALID_ARGUMENT` naming a bad option.
 *
 * ```ts
 * const api = createHttpApi(relay, { adminToken: process.env.WEFT_ADMIN_TOKEN })
 * const server = createServer((request, response) => {
 *   if (!api(request, response)) response.writeHead(404).end()
 * })
 * ```
 */
export const createHttpApi = (relay: Relay, options: HttpApiOptions = {}): HttpHandler => {
  const { adminToken, webhooks } = options
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new WeftError('INVALID_ARGUMENT', 'maxBodyBytes must be a positive integer')
  }
  // An empty token would let a request without any Authorization header through.
  if (adminToken !== undefined && (typeof adminToken !== 'string' || adminToken === '')) {
    throw new WeftError('INVALID_ARGUMENT', 'adminToken must be a non-empty string')
  }
  const group = apiRoutes(relay, maxBodyBytes)
  const api = guardRoutes(serveRoutes(group), {
    prefix: group.prefix,
    allowedOrigins: checkOrigins(options.allowedOrigins, relay.allowedOrigins),
    methods: group.routes.map((each) => each.method),
    rateLimit: rateLimitOf(options),
    clientAddress: (request) => relay.clientAddress(request),
  })
  const admin = serveRoutes(
    adminRoutes({
      admin: relay.admin,
      revocations: relay.revocations,
      webhooks,
      token: adminToken,
      maxBodyBytes,
    }),
  )
  return traceHttp(
    (request, response) => api(request, response) || admin(request, response),
    [group.prefix, '/admin'],
  )
}

const checkOrigins = (
  given: readonly string[] | null | undefined,
  fallback: readonly string[] | null,
): readonly string[] | null => {
  if (given === undefined) return fallback
  checkAllowedOrigins(given, 'allowedOrigins')
  return given
}

const rateLimitOf = (options: HttpApiOptions): AddressRateLimit | null => {
  const perSecond = options.maxRequestsPerSecond ?? DEFAULT_MAX_REQUESTS_PER_SECOND
  const maxAddresses = options.maxTrackedAddresses ?? 10_000
  if (!Number.isSafeInteger(perSecond) || perSecond < 0) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `maxRequestsPerSecond must be a non-negative integer (0: no limit), got ${String(perSecond)}`,
    )
  }
  if (!Number.isSafeInteger(maxAddresses) || maxAddresses < 1) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `maxTrackedAddresses must be a positive integer, got ${String(maxAddresses)}`,
    )
  }
  return perSecond === 0 ? null : new AddressRateLimit({ perSecond, maxAddresses })
}
