/**
 * @weft/server/http: the relay's HTTP routes — the `/v1` API for backend services and the
 * `/admin` operator routes — as one request handler to mount on any Node HTTP server.
 */
import { WeftError } from '@weft/protocol'
import { adminRoutes } from './admin-routes.js'
import { apiRoutes } from './api-routes.js'
import type { Relay } from './relay.js'
import { serveRoutes, type HttpHandler } from './route-table.js'
import type { WebhookDispatcher } from './webhook-dispatcher.js'

export type { HttpHandler } from './route-table.js'

/** Options of {@link createHttpApi}. */
export interface HttpApiOptions {
  /** Largest request body accepted (413 beyond). Default 16 MiB. */
  readonly maxBodyBytes?: number
  /** Bearer token of the `/admin` routes. Default none: every `/admin` path answers 404. */
  readonly adminToken?: string | undefined
  /** The dispatcher `/admin/webhooks` reports on and replays. Default none: no such routes. */
  readonly webhooks?: WebhookDispatcher | undefined
}

/**
 * Builds the handler of `relay`'s HTTP routes: it takes requests under `/v1` and `/admin` (and
 * answers them itself, errors included) and returns false for every other path.
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
  const api = serveRoutes(apiRoutes(relay, maxBodyBytes))
  const admin = serveRoutes(
    adminRoutes({ admin: relay.admin, webhooks, token: adminToken, maxBodyBytes }),
  )
  return (request, response) => api(request, response) || admin(request, response)
}
