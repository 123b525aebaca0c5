import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WeftError } from '@weft/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { createHttpApi } from '../src/http-api.js'
import { MemoryStore } from '../src/memory-store.js'
import { Relay } from '../src/relay.js'
import { openAuth } from '../src/auth.js'
import { route, serveRoutes, type HttpHandler, type RouteGroup } from '../src/route-table.js'

const servers: Server[] = []
const relays: Relay[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeAllConnections()
    await closed
  }
  for (const relay of relays.splice(0)) await relay.close()
})

/** Serves `handler` on a free loopback port; other paths get a plain 418. */
const serve = async (handler: HttpHandler): Promise<string> => {
  const server = createServer((request, response) => {
    if (!handler(request, response)) response.writeHead(418).end()
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A group under `/t` whose auth step admits `Bearer ok` as `ok` and tags every answer. */
const group: RouteGroup<string> = {
  prefix: '/t',
  headers: () => ({ 'x-group': 't' }),
  authorize: (request) => {
    if (request.headers.authorization !== 'Bearer ok') {
      throw new WeftError('UNAUTHORIZED', 'send the token')
    }
    return 'ok'
  },
  routes: [
    route('GET', '/items', ({ reply }) => reply(200, { list: true })),
    route('GET', '/items/:id', ({ params, context, query, reply }) =>
      reply(200, { id: params.id, caller: context, view: query.get('view') }),
    ),
    route('DELETE', '/items/:id', ({ reply }) => reply(204, undefined)),
    route('POST', '/items/:id/move/:to', ({ params, reply }) => reply(200, params)),
    route('GET', '/fails', () => {
      throw new WeftError('ALREADY_EXISTS', 'always')
    }),
  ],
  noRoute: (method, path, allowed) =>
    new WeftError('NOT_FOUND', `${method} ${path}; allowed: ${allowed.join(',')}`),
}

describe('serveRoutes', () => {
  it('takes only its prefix, and answers through its auth step, matcher and error path', async () => {
    const url = await serve(serveRoutes(group))
    const call = (path: string, method = 'GET', token = 'ok'): Promise<Response> =>
      fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}` } })

    expect((await call('/other')).status).toBe(418)
    expect((await call('/tx/items')).status).toBe(418)

    const refused = await call('/t/items', 'GET', 'wrong')
    expect(refused.status).toBe(401)
    expect(refused.headers.get('x-group')).toBe('t')
    expect(await refused.json()).toEqual({ code: 'UNAUTHORIZED', message: 'send the token' })

    expect(await (await call('/t/items')).json()).toEqual({ list: true })
    expect(await (await call('/t/items/a%2Fb?view=raw')).json()).toEqual({
      id: 'a%2Fb',
      caller: 'ok',
      view: 'raw',
    })
    expect((await call('/t/items/a', 'DELETE')).status).toBe(204)
    expect(await (await call('/t/items/a/move/b', 'POST')).json()).toEqual({ id: 'a', to: 'b' })

    const wrongMethod = await call('/t/items/a', 'PUT')
    expect(wrongMethod.status).toBe(404)
    expect(await wrongMethod.json()).toMatchObject({
      message: 'PUT /t/items/a; allowed: GET,DELETE',
    })
    for (const path of ['/t', '/t/', '/t/items/a/b', '/t/items/a/move']) {
      expect(await (await call(path)).json(), path).toMatchObject({
        message: `GET ${path}; allowed: `,
      })
    }
    const failed = await call('/t/fails')
    expect(failed.status).toBe(409)
    expect(failed.headers.get('x-group')).toBe('t')
  })
})

describe('createHttpApi', () => {
  const start = async (options: Parameters<typeof createHttpApi>[1]): Promise<string> => {
    const relay = new Relay({ store: new MemoryStore(), auth: openAuth(), heartbeatIntervalMs: 0 })
    relays.push(relay)
    return serve(createHttpApi(relay, options))
  }

  it('refuses an empty admin token, which would admit requests without one', () => {
    const relay = new Relay({ store: new MemoryStore(), auth: openAuth(), heartbeatIntervalMs: 0 })
    relays.push(relay)
    expect(() => createHttpApi(relay, { adminToken: '' })).toThrow(/adminToken/)
    expect(() => createHttpApi(relay, { maxBodyBytes: 0 })).toThrow(/maxBodyBytes/)
  })

  it('serves /v1 and /admin from one handler and leaves every other path to the caller', async () => {
    const url = await start({ adminToken: 'admin-token' })
    const admin = { headers: { authorization: 'Bearer admin-token' } }
    expect(await (await fetch(`${url}/admin/docs`, admin)).json()).toEqual([])
    expect((await fetch(`${url}/v1/docs/never-written`)).status).toBe(404)
    expect((await fetch(`${url}/admin/docs`)).status).toBe(401)
    expect((await fetch(`${url}/healthz`)).status).toBe(418)
    // Without a dispatcher the webhook routes do not exist.
    const webhooks = await fetch(`${url}/admin/webhooks`, admin)
    expect(webhooks.status).toBe(400)
    expect(await webhooks.json()).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'no route GET /admin/webhooks',
    })
    const wrongMethod = await fetch(`${url}/admin/docs`, { ...admin, method: 'POST' })
    expect(await wrongMethod.json()).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'POST /admin/docs: use GET',
    })
  })

  it('answers every /admin path 404 without an admin token', async () => {
    const url = await start({})
    const off = await fetch(`${url}/admin/docs`, { headers: { authorization: 'Bearer x' } })
    expect(off.status).toBe(404)
    expect(await off.json()).toEqual({
      code: 'NOT_FOUND',
      message: 'admin routes are off: start the relay with --admin-token',
    })
  })
})
