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
import { bearerToken, readHttpBody, readHttpJson, sendHttp, sendHttpError } from './http-support.js'
import { applyRecordChanges, parseRecordChanges } from './record-changes.js'
import type { Relay } from './relay.js'

/** Options of {@link createHttpApi}. */
export interface HttpApiOptions {
  /** Largest request body accepted (413 beyond). Default 16 MiB. */
  readonly maxBodyBytes?: number
}

/** A request handler: true when it took the request (its path is under `/v1`). */
export type HttpHandler = (request: IncomingMessage, response: ServerResponse) => boolean

/** What a route needs to know of the request. */
interface RouteContext {
  readonly relay: Relay
  readonly identity: Identity
  readonly correlationId: string
  readonly query: URLSearchParams
  readonly maxBodyBytes: number
}

/**
 * Builds the `/v1` handler for `relay`. Errors are JSON `{ code, message }` with a status per
 * code (400 bad input, 401 no or bad token, 403 outside the token's scope, 404 unknown document
 * or record, 409 record exists, 410 cursor expired, 413 body too big, 503 shutting down).
 */
export const createHttpApi = (relay: Relay, options: HttpApiOptions = {}): HttpHandler => {
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new WeftError('INVALID_ARGUMENT', 'maxBodyBytes must be a positive integer')
  }
  return (request, response) => {
    const [path = '/', search = ''] = (request.url ?? '/').split('?')
    if (path !== '/v1' && !path.startsWith('/v1/')) return false
    const correlationId = correlationIdOf(request)
    const headers: Record<string, string> =
      correlationId instanceof WeftError ? {} : { 'x-correlation-id': correlationId }
    void (async () => {
      try {
        if (correlationId instanceof WeftError) throw correlationId
        const identity = await authenticate(relay, request)
        const context = {
          relay,
          identity,
          correlationId,
          query: new URLSearchParams(search),
          maxBodyBytes,
        }
        await route(request, response, path, context, headers)
      } catch (error) {
        sendHttpError(response, error, headers)
      }
    })()
    return true
  }
}

const route = async (
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
  context: RouteContext,
  headers: Record<string, string>,
): Promise<void> => {
  const method = request.method ?? 'GET'
  const parts = path.split('/').slice(2) // ['docs', name, action?] or ['feed', 'stream'?]
  if (parts[0] === 'feed' && parts.length <= 2) {
    if (method !== 'GET') throw noRoute(method, path)
    if (parts[1] === 'head') {
      const { head, prunedThrough } = await context.relay.feed.bounds()
      return sendHttp(
        response,
        200,
        { head: String(head), prunedThrough: String(prunedThrough) },
        headers,
      )
    }
    const feed = feedRequest(request, context)
    if (parts[1] === 'stream') return streamFeed(response, context.relay.feed, feed, headers)
    if (parts[1] !== undefined) throw noRoute(method, path)
    const read = await context.relay.feed.read({ ...feed, signal: closedSignal(response) })
    return sendHttp(
      response,
      200,
      {
        events: read.entries.map(feedEventJson),
        cursor: String(read.cursor),
        head: String(read.head),
      },
      headers,
    )
  }
  if (parts[0] !== 'docs' || parts.length < 2 || parts.length > 3) throw noRoute(method, path)
  const name = decodeName(parts[1] as string)
  const access = accessFor(context.identity, name)
  const action = `${method} ${parts[2] ?? ''}`
  if (!access.read) {
    throw new WeftError('FORBIDDEN', `the token does not cover document "${name}"`)
  }
  const { documents } = context.relay
  const writer = {
    author: context.identity.subject,
    correlationId: context.correlationId,
    access,
  }
  if (action === 'GET ') {
    const raw = context.query.get('view') === 'raw'
    return sendHttp(response, 200, await documents.json(name, { raw }), headers)
  }
  if (action === 'GET update') {
    const since = context.query.get('since')
    const update = await documents.update(
      name,
      since === null ? undefined : decodeBase64(since, 'since'),
    )
    return sendHttp(response, 200, update, headers)
  }
  if (action === 'POST update') {
    requireWrite(access.write, name)
    const body = await readHttpBody(request, context.maxBodyBytes)
    const stateVector = await documents.applyUpdate(name, body, writer)
    return sendHttp(response, 200, { saved: true, stateVector: toBase64(stateVector) }, headers)
  }
  if (action === 'POST records') {
    requireWrite(access.write, name)
    const changes = parseRecordChanges(await readHttpJson(request, context.maxBodyBytes))
    const handle = await documents.open(name, writer)
    try {
      if (handle.model === null) {
        throw new WeftError(
          'INVALID_ARGUMENT',
          `document "${name}" has no schema on this relay: post Yjs updates to /update instead`,
        )
      }
      const created = await handle.change((model) => applyRecordChanges(model, changes))
      const stateVector = toBase64(Y.encodeStateVector(handle.doc))
      return sendHttp(response, 200, { saved: true, created, stateVector }, headers)
    } finally {
      await handle.close()
    }
  }
  throw noRoute(method, path)
}

/** The feed read a request asks for: cursor, limit, wait and which documents. */
const feedRequest = (
  request: IncomingMessage,
  context: RouteContext,
): {
  after?: number
  limit: number
  waitMs: number
  filter: (entry: FeedEntry) => boolean
} => {
  const { query, identity } = context
  const lastEventId = request.headers['last-event-id']
  const given = query.get('after') ?? (typeof lastEventId === 'string' ? lastEventId : null)
  // Without a cursor: from the oldest event kept.
  const after = given === null || given === '' ? undefined : integer('after', given, 0)
  const limit = integer('limit', query.get('limit'), 100)
  const waitMs = integer('wait', query.get('wait'), 0)
  const patterns = query.getAll('docs')
  const filter = (entry: FeedEntry): boolean =>
    accessFor(identity, entry.doc).read &&
    (patterns.length === 0 || patterns.some((pattern) => matchesPattern(pattern, entry.doc)))
  return { ...(after === undefined ? {} : { after }), limit, waitMs, filter }
}

/** The verified identity of the request's bearer token (open mode: anyone, with no token). */
const authenticate = async (relay: Relay, request: IncomingMessage): Promise<Identity> => {
  try {
    return await relay.authenticate(bearerToken(request))
  } catch (error) {
    if (error instanceof WeftError && error.code === 'UNAUTHORIZED') throw error
    throw new WeftError('UNAUTHORIZED', 'send Authorization: Bearer <token>', { cause: error })
  }
}

/**
 * The request's `X-Correlation-Id` (1 to 256 printable ASCII characters), a new one when there
 * is none, or the error refusing one that is malformed.
 */
const correlationIdOf = (request: IncomingMessage): string | WeftError => {
  const given = request.headers['x-correlation-id']
  if (given === undefined) return randomUUID()
  if (typeof given === 'string' && /^[\x21-\x7e]{1,256}$/.test(given)) return given
  return new WeftError(
    'INVALID_ARGUMENT',
    'X-Correlation-Id must be 1 to 256 printable ASCII characters without spaces',
  )
}

const noRoute = (method: string, path: string): WeftError =>
  new WeftError('NOT_FOUND', `no route ${method} ${path}; see the relay README for the /v1 routes`)

const requireWrite = (write: boolean, name: string): void => {
  if (!write) throw new WeftError('FORBIDDEN', `the token may only read document "${name}"`)
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
