/**
 * The relay's HTTP API for backend services, under `/v1`, behind the same tokens and scopes as
 * WebSocket clients (`Authorization: Bearer <JWT>`; none needed in open mode):
 *
 *   GET  /v1/docs/<name>                    the document as JSON (records through its schema)
 *   GET  /v1/docs/<name>/update[?since=sv]  the document, or what is newer than a state vector, as Yjs bytes
 *   POST /v1/docs/<name>/update             apply a Yjs update (the body); answers once on disk
 *   POST /v1/docs/<name>/records            create/update/delete/restore records, resolve conflicts
 *   GET  /v1/feed?after=&limit=&wait=&docs= the change feed after a cursor (long-poll with wait)
 *   GET  /v1/feed/stream?after=&docs=       the same as server-sent events, resumable with Last-Event-ID
 *   GET  /v1/feed/head                      the newest position and the newest one retention removed
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { checkDocName, WeftError } from '@weft/protocol'
import * as Y from 'yjs'
import { accessFor, matchesPattern, type Identity } from './auth.js'
import type { FeedEntry } from './doc-store.js'
import { feedEventJson } from './feed-event.js'
import { streamFeed } from './http-feed-stream.js'
import { bearerToken, readHttpBody, readHttpJson } from './http-support.js'
import { requestTraceContext } from './http-tracing.js'
import { applyRecordChanges, parseRecordChanges } from './record-changes.js'
import type { Relay } from './relay.js'
import type { WriterOptions } from './relay-documents.js'
import { route, type RouteCall, type RouteGroup } from './route-table.js'

/** Who a `/v1` request speaks for. */
interface ApiCaller {
  readonly identity: Identity
  readonly correlationId: string
}

type DocCall = RouteCall<ApiCaller, { readonly name: string }>

/**
 * The `/v1` routes of `relay`. Errors are JSON `{ code, message }` with a status per code (400
 * bad input, 401 no or bad token, 403 outside the token's scope, 404 unknown document, record or
 * route, 409 record exists, 410 cursor expired, 413 body too big, 503 shutting down); every
 * answer carries the request's `X-Correlation-Id`, or a new one.
 */
export const apiRoutes = (relay: Relay, maxBodyBytes: number): RouteGroup<ApiCaller> => ({
  prefix: '/v1',
  headers: (request) => {
    const correlationId = correlationIdOf(request)
    return correlationId === null ? {} : { 'x-correlation-id': correlationId }
  },
  authorize: async (request, headers) => {
    // The id the answers carry (given or new) is the one stored with the change; none means the
    // request's was malformed.
    const correlationId = headers['x-correlation-id']
    if (correlationId === undefined) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        'X-Correlation-Id must be 1 to 256 printable ASCII characters without spaces',
      )
    }
    return { identity: await authenticate(relay, request), correlationId }
  },
  routes: [
    route('GET', '/feed/head', async ({ reply }) => {
      const { head, prunedThrough } = await relay.feed.bounds()
      reply(200, { head: String(head), prunedThrough: String(prunedThrough) })
    }),
    route('GET', '/feed', async (call) => {
      const read = await relay.feed.read({
        ...feedRequest(call),
        signal: closedSignal(call.response),
      })
      call.reply(200, {
        events: read.entries.map(feedEventJson),
        cursor: String(read.cursor),
        head: String(read.head),
      })
    }),
    route('GET', '/feed/stream', (call) =>
      streamFeed(call.response, relay.feed, feedRequest(call), call.headers),
    ),
    route('GET', '/docs/:name', async (call) => {
      const { name } = docRequest(call)
      const raw = call.query.get('view') === 'raw'
      call.reply(200, await relay.documents.json(name, { raw }))
    }),
    route('GET', '/docs/:name/update', async (call) => {
      const { name } = docRequest(call)
      const since = call.query.get('since')
      const stateVector = since === null ? undefined : decodeBase64(since, 'since')
      call.reply(200, await relay.documents.update(name, stateVector))
    }),
    route('POST', '/docs/:name/update', async (call) => {
      const { name, writer } = docRequest(call, 'write')
      const body = await readHttpBody(call.request, maxBodyBytes)
      const stateVector = await relay.documents.applyUpdate(name, body, writer)
      call.reply(200, { saved: true, stateVector: toBase64(stateVector) })
    }),
    route('POST', '/docs/:name/records', async (call) => {
      const { name, writer } = docRequest(call, 'write')
      const changes = parseRecordChanges(await readHttpJson(call.request, maxBodyBytes))
      const handle = await relay.documents.open(name, writer)
      try {
        if (handle.model === null) {
          throw new WeftError(
            'INVALID_ARGUMENT',
            `document "${name}" has no schema on this relay: post Yjs updates to /update instead`,
          )
        }
        const created = await handle.change((model) => applyRecordChanges(model, changes))
        const stateVector = toBase64(Y.encodeStateVector(handle.doc))
        call.reply(200, { saved: true, created, stateVector })
      } finally {
        await handle.close()
      }
    }),
  ],
  noRoute: (method, path) =>
    new WeftError(
      'NOT_FOUND',
      `no route ${method} ${path}; see the relay README for the /v1 routes`,
    ),
})

/**
 * The document a `/docs/<name>` route names, refused unless the token may read it (and write it,
 * for `need: 'write'`), with the writer its changes are recorded as.
 */
const docRequest = (
  { params, context, request }: DocCall,
  need: 'read' | 'write' = 'read',
): { name: string; writer: WriterOptions } => {
  const name = decodeName(params.name)
  const access = accessFor(context.identity, name)
  if (!access.read) {
    throw new WeftError('FORBIDDEN', `the token does not cover document "${name}"`)
  }
  if (need === 'write' && !access.write) {
    throw new WeftError('FORBIDDEN', `the token may only read document "${name}"`)
  }
  const { subject, roles = [] } = context.identity
  const writer = {
    author: subject,
    correlationId: context.correlationId,
    access,
    roles,
    // Its writes join the request's trace.
    traceContext: requestTraceContext(request),
  }
  return { name, writer }
}

/** The feed read a request asks for: cursor, limit, wait and which documents. */
const feedRequest = ({
  request,
  query,
  context,
}: RouteCall<ApiCaller, unknown>): {
  after?: number
  limit: number
  waitMs: number
  filter: (entry: FeedEntry) => boolean
  consumer: string
} => {
  const lastEventId = request.headers['last-event-id']
  const given = query.get('after') ?? (typeof lastEventId === 'string' ? lastEventId : null)
  // Without a cursor: from the oldest event kept.
  const after = given === null || given === '' ? undefined : integer('after', given, 0)
  const limit = integer('limit', query.get('limit'), 100)
  const waitMs = integer('wait', query.get('wait'), 0)
  const patterns = query.getAll('docs')
  const filter = (entry: FeedEntry): boolean =>
    accessFor(context.identity, entry.doc).read &&
    (patterns.length === 0 || patterns.some((pattern) => matchesPattern(pattern, entry.doc)))
  // Recorded by subject in relay.feed.consumers: how far behind the head each reader is.
  const consumer = context.identity.subject
  return { ...(after === undefined ? {} : { after }), limit, waitMs, filter, consumer }
}

/** The verified identity of the request's bearer token (open mode: anyone, with no token). */
const authenticate = async (relay: Relay, request: IncomingMessage): Promise<Identity> => {
  try {
    return await relay.authenticate(bearerToken(request))
  } catch (error) {
    if (error instanceof WeftError && (error.code === 'UNAUTHORIZED' || error.code === 'REVOKED'))
      throw error
    throw new WeftError('UNAUTHORIZED', 'send Authorization: Bearer <token>', { cause: error })
  }
}

/**
 * The request's `X-Correlation-Id` (1 to 256 printable ASCII characters), a new one when there
 * is none, or null when it is malformed (the request is then refused).
 */
const correlationIdOf = (request: IncomingMessage): string | null => {
  const given = request.headers['x-correlation-id']
  if (given === undefined) return randomUUID()
  if (typeof given === 'string' && /^[\x21-\x7e]{1,256}$/.test(given)) return given
  return null
}

const decodeName = (encoded: string): string => {
  let name: string
  try {
    name = decodeURIComponent(encoded)
  } catch {
    throw new WeftError('BAD_DOC_NAME', 'the document name is not valid percent-encoding')
  }
  const problem = checkDocName(name)
  if (problem !== undefined) throw problem
  return name
}

/** A query parameter as a non-negative integer (`fallback` when absent). */
const integer = (name: string, value: string | null, fallback: number): number => {
  if (value === null || value === '') return fallback
  const number = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number)) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `${name} must be a non-negative integer, got "${value}"`,
    )
  }
  return number
}

/** Bytes from base64 or base64url; anything else is `INVALID_ARGUMENT`. */
const decodeBase64 = (value: string, name: string): Uint8Array => {
  const normalized = value.replaceAll('-', '+').replaceAll('_', '/')
  const bytes = Buffer.from(normalized, 'base64')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(normalized) || bytes.length === 0) {
    throw new WeftError('INVALID_ARGUMENT', `${name} must be a base64 (or base64url) state vector`)
  }
  return new Uint8Array(bytes)
}

const toBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')

/** Aborts when the response closes: the client went away (ends a long-poll early). */
const closedSignal = (response: ServerResponse): AbortSignal => {
  const controller = new AbortController()
  response.once('close', () => controller.abort())
  return controller.signal
}
