/**
 * The operator routes under `/admin`, behind `Authorization: Bearer <admin token>`; without an
 * admin token they do not exist (404). JSON in and out, except export and import, which carry a
 * document as Yjs update bytes (`application/octet-stream`).
 *
 *   GET    /admin/docs                 every document: sizes, log, last write, loaded, peers
 *   GET    /admin/docs/<name>          one document: the above, state vector, state size
 *   GET    /admin/docs/<name>/export   the document as one Yjs update
 *   PUT    /admin/docs/<name>          apply a Yjs update as a forward change (clients receive it)
 *   DELETE /admin/docs/<name>          delete it; connected clients get DOC_DELETED
 *   POST   /admin/docs/<name>/compact  fold its log into its snapshot now
 *   GET    /admin/docs/<name>/history  who changed it and when (within the history window)
 *   GET    /admin/docs/<name>/export?at=<ms>   the document as it was then
 *   POST   /admin/docs/<name>/restore?at=<ms>  make it read as it did then (a forward change)
 *   GET    /admin/webhooks                      each endpoint's cursor, counts, failing delivery
 *   GET    /admin/webhooks/<id>/dead            its dead letters (events, attempts, last error)
 *   POST   /admin/webhooks/<id>/dead/replay     post them again, oldest first, until one fails
 *   DELETE /admin/webhooks/<id>/dead            discard them
 *   POST   /admin/revocations                   revoke a subject's or one token's tokens until a time
 *   GET    /admin/revocations                   the revocations in force
 *   DELETE /admin/revocations/<id>              lift one
 */
import type { IncomingMessage } from 'node:http'
import { WeftError } from '@weft/protocol'
import type { RelayAdmin } from './admin.js'
import { hasBearerToken, readHttpBody, readHttpJson } from './http-support.js'
import { requestTraceContext } from './http-tracing.js'
import type { RelayRevocations, RevocationInput } from './revocations.js'
import { route, type Route, type RouteGroup } from './route-table.js'
import type { WebhookDispatcher } from './webhook-dispatcher.js'

/** What the `/admin` routes act on. */
export interface AdminRoutesOptions {
  readonly admin: RelayAdmin
  /** What the `/admin/revocations` routes list, add and lift. */
  readonly revocations: RelayRevocations
  /** The `/admin/webhooks` routes exist only with a dispatcher. */
  readonly webhooks: WebhookDispatcher | undefined
  /** The routes' bearer token; without one every `/admin` path answers 404. */
  readonly token: string | undefined
  /** Largest body `PUT /admin/docs/<name>` accepts (413 beyond). */
  readonly maxBodyBytes: number
}

/** Recorded as the operator of imports, deletions and restores made through these routes. */
const OPERATOR = 'admin-api'

/**
 * The `/admin` routes. Errors are JSON `{ code, message }`: 400 for bad input (`BAD_UPDATE`,
 * `BAD_DOC_NAME`, a route or method that does not exist), 401 without the token, 404 when the
 * routes are off, 503 while stopping.
 */
export const adminRoutes = (options: AdminRoutesOptions): RouteGroup<void> => {
  const { admin, revocations, webhooks, token, maxBodyBytes } = options
  const docs: Route<void>[] = [
    route('GET', '/docs', async ({ reply }) => reply(200, await admin.list())),
    route('GET', '/docs/:name', async ({ params, reply }) =>
      reply(200, await admin.inspect(decodeName(params.name))),
    ),
    route('PUT', '/docs/:name', async ({ params, request, reply }) => {
      const name = decodeName(params.name)
      const update = await readHttpBody(request, maxBodyBytes)
      // The write joins the request's trace (its weft.http span), as /v1 writes do.
      await admin.import(name, update, OPERATOR, requestTraceContext(request))
      reply(204, undefined)
    }),
    route('DELETE', '/docs/:name', async ({ params, request, reply }) => {
      await admin.delete(decodeName(params.name), OPERATOR, requestTraceContext(request))
      reply(204, undefined)
    }),
    route('GET', '/docs/:name/export', async ({ params, query, reply }) => {
      const name = decodeName(params.name)
      reply(
        200,
        query.has('at') ? await admin.stateAt(name, atOf(query)) : await admin.export(name),
      )
    }),
    route('GET', '/docs/:name/history', async ({ params, reply }) =>
      reply(200, await admin.history(decodeName(params.name))),
    ),
    route('POST', '/docs/:name/restore', async ({ params, query, request, reply }) => {
      const name = decodeName(params.name)
      reply(200, await admin.restore(name, atOf(query), OPERATOR, requestTraceContext(request)))
    }),
    route('POST', '/docs/:name/compact', async ({ params, reply }) =>
      reply(200, await admin.compact(decodeName(params.name))),
    ),
  ]
  return {
    prefix: '/admin',
    authorize: (request) => {
      if (token === undefined) {
        throw new WeftError('NOT_FOUND', 'admin routes are off: start the relay with --admin-token')
      }
      if (!hasBearerToken(request, token)) {
        throw new WeftError('UNAUTHORIZED', 'send Authorization: Bearer <admin token>')
      }
    },
    routes: [
      ...docs,
      ...revocationRoutes(revocations),
      ...(webhooks === undefined ? [] : webhookRoutes(webhooks)),
    ],
    noRoute: (method, path, allowed) =>
      new WeftError(
        'INVALID_ARGUMENT',
        allowed.length === 0
          ? `no route ${method} ${path}`
          : `${method} ${path}: use ${allowed.join(' or ')}`,
      ),
  }
}

/** Largest body `POST /admin/revocations` reads. */
const MAX_REVOCATION_BODY_BYTES = 16 * 1024

/** `/admin/revocations[/<id>]`: add (201 with the revocation), list, lift (200 with it). */
const revocationRoutes = (revocations: RelayRevocations): Route<void>[] => [
  route('POST', '/revocations', async ({ request, reply }) =>
    reply(201, await revocations.add(await readRevocationBody(request))),
  ),
  route('GET', '/revocations', async ({ reply }) =>
    reply(200, { revocations: await revocations.list() }),
  ),
  route('DELETE', '/revocations/:id', async ({ params, reply }) =>
    reply(200, await revocations.remove(decodeURIComponentOr(params.id))),
  ),
]

/** The JSON body of a revocation; the relay's `add` validates its fields. */
const readRevocationBody = async (request: IncomingMessage): Promise<RevocationInput> => {
  const body = await readHttpJson(request, MAX_REVOCATION_BODY_BYTES)
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      'send a JSON object { "subject" | "tokenId", "ttlMs" | "expiresAtMs", "reason"? }',
    )
  }
  return body as RevocationInput
}

const decodeURIComponentOr = (encoded: string): string => {
  try {
    return decodeURIComponent(encoded)
  } catch {
    throw new WeftError('INVALID_ARGUMENT', 'the revocation id is not valid percent-encoding')
  }
}

/** `/admin/webhooks[/<id>/dead[/replay]]`: status, dead letters, replay and discard. */
const webhookRoutes = (webhooks: WebhookDispatcher): Route<void>[] => [
  route('GET', '/webhooks', ({ reply }) => reply(200, webhooks.status())),
  route('GET', '/webhooks/:id/dead', async ({ params, reply }) =>
    reply(200, await webhooks.deadLetters(params.id)),
  ),
  route('DELETE', '/webhooks/:id/dead', async ({ params, reply }) =>
    reply(200, { discarded: await webhooks.discard(params.id) }),
  ),
  route('POST', '/webhooks/:id/dead/replay', async ({ params, reply }) =>
    reply(200, await webhooks.replay(params.id)),
  ),
]

const decodeName = (encoded: string): string => {
  try {
    return decodeURIComponent(encoded)
  } catch {
    throw new WeftError('BAD_DOC_NAME', 'the document name is not valid percent-encoding')
  }
}

/** The `?at=<ms>` a point-in-time route needs. */
const atOf = (query: URLSearchParams): number => {
  const value = Number(query.get('at'))
  if (!query.has('at') || !Number.isSafeInteger(value)) {
    throw new WeftError('INVALID_ARGUMENT', 'give the time as ?at=<milliseconds since the epoch>')
  }
  return value
}
