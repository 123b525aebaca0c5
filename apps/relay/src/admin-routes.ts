/**
 * The operator routes under `/admin`, behind `Authorization: Bearer <--admin-token>`; without an
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
 */
import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { WeftError } from '@weft/protocol'
import {
  readHttpBody,
  sendHttp,
  sendHttpError,
  type RelayAdmin,
  type WebhookDispatcher,
} from '@weft/server'

const authorized = (request: IncomingMessage, token: string): boolean => {
  const header = request.headers.authorization ?? ''
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '')
  const expected = Buffer.from(token)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** Handles `/admin/…`; returns false for other paths. */
export const handleAdminRoute = (
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
  query: URLSearchParams,
  options: {
    admin: RelayAdmin
    webhooks: WebhookDispatcher
    token: string | undefined
    maxBodyBytes: number
  },
): boolean => {
  if (path !== '/admin' && !path.startsWith('/admin/')) return false
  const { admin, token } = options
  if (token === undefined) {
    sendHttp(response, 404, {
      code: 'NOT_FOUND',
      message: 'admin routes are off: start the relay with --admin-token',
    })
    return true
  }
  if (!authorized(request, token)) {
    sendHttp(response, 401, {
      code: 'UNAUTHORIZED',
      message: 'send Authorization: Bearer <admin token>',
    })
    return true
  }
  const method = request.method ?? 'GET'
  const parts = path.split('/').slice(2) // ['docs', name?, action?]
  void (async () => {
    try {
      if (parts[0] === 'webhooks')
        return await webhookRoute(response, method, path, parts, options.webhooks)
      if (parts[0] !== 'docs' || parts.length > 3)
        throw new WeftError('INVALID_ARGUMENT', `no route ${method} ${path}`)
      if (parts.length === 1) {
        if (method !== 'GET') throw new WeftError('INVALID_ARGUMENT', `${method} ${path}: use GET`)
        return sendHttp(response, 200, await admin.list())
      }
      let name: string
      try {
        name = decodeURIComponent(parts[1] as string)
      } catch {
        throw new WeftError('BAD_DOC_NAME', 'the document name is not valid percent-encoding')
      }
      const action = parts[2]
      const operator = 'admin-api'
      if (action === undefined && method === 'GET')
        return sendHttp(response, 200, await admin.inspect(name))
      if (action === undefined && method === 'PUT') {
        await admin.import(name, await readHttpBody(request, options.maxBodyBytes), operator)
        return sendHttp(response, 204, undefined)
      }
      if (action === undefined && method === 'DELETE') {
        await admin.delete(name, operator)
        return sendHttp(response, 204, undefined)
      }
      const at = (): number => {
        const value = Number(query.get('at'))
        if (!query.has('at') || !Number.isSafeInteger(value)) {
          throw new WeftError(
            'INVALID_ARGUMENT',
            'give the time as ?at=<milliseconds since the epoch>',
          )
        }
        return value
      }
      if (action === 'export' && method === 'GET') {
        return sendHttp(
          response,
          200,
          query.has('at') ? await admin.stateAt(name, at()) : await admin.export(name),
        )
      }
      if (action === 'history' && method === 'GET')
        return sendHttp(response, 200, await admin.history(name))
      if (action === 'restore' && method === 'POST') {
        return sendHttp(response, 200, await admin.restore(name, at(), operator))
      }
      if (action === 'compact' && method === 'POST')
        return sendHttp(response, 200, await admin.compact(name))
      throw new WeftError('INVALID_ARGUMENT', `no route ${method} ${path}`)
    } catch (error) {
      sendHttpError(response, error)
    }
  })()
  return true
}

/** `/admin/webhooks[/<id>/dead[/replay]]`: status, dead letters, replay and discard. */
const webhookRoute = async (
  response: ServerResponse,
  method: string,
  path: string,
  parts: string[],
  webhooks: WebhookDispatcher,
): Promise<void> => {
  const [, id, dead, replay] = parts
  if (parts.length === 1 && method === 'GET') return sendHttp(response, 200, webhooks.status())
  if (id === undefined || dead !== 'dead' || parts.length > 4) {
    throw new WeftError('INVALID_ARGUMENT', `no route ${method} ${path}`)
  }
  const endpoint = id
  if (replay === undefined && method === 'GET')
    return sendHttp(response, 200, await webhooks.deadLetters(endpoint))
  if (replay === undefined && method === 'DELETE')
    return sendHttp(response, 200, { discarded: await webhooks.discard(endpoint) })
  if (replay === 'replay' && method === 'POST')
    return sendHttp(response, 200, await webhooks.replay(endpoint))
  throw new WeftError('INVALID_ARGUMENT', `no route ${method} ${path}`)
}
