/**
 * The relay's plain HTTP routes — health, readiness, `/stats`, `/metrics`, the web app — around
 * the `/v1` and `/admin` handler, for the public listener, the admin listener, or one for both.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { hasBearerToken, type HttpHandler } from '@weft/server/http'
import { readinessText, type Readiness } from './readiness.js'
import { serveStatic } from './static-files.js'

/**
 * What a listener serves: `all` (one listener, today's default), `public` (`/v1`, health, the
 * web app; no operator routes) or `admin` (`/admin`, `/metrics`, `/stats`, health).
 */
export type ListenerRole = 'all' | 'public' | 'admin'

/** What the routes read. */
export interface RouteContext {
  /** The `/v1` HTTP API for backend services and the `/admin` operator routes. */
  readonly api: HttpHandler
  readonly readiness: Readiness
  /** The `/stats` document; `reset` restarts the event-loop lag window. */
  readonly stats: (reset: boolean) => Record<string, unknown>
  /** The Prometheus exposition text, and its content type. */
  readonly metrics: () => Promise<string>
  readonly metricsType: string
  /** Directory of the web app served at `/`, if any. */
  readonly staticDir: string | undefined
  /** The bearer token `/metrics` and `/stats` require (`--metrics-auth admin-token`), or null. */
  readonly opsToken: string | null
}

/** The handler of a listener in `role`. */
export const routeRequests =
  (context: RouteContext, role: ListenerRole) =>
  (request: IncomingMessage, response: ServerResponse): void => {
    const [path = '/', query = ''] = (request.url ?? '/').split('?')
    if (path === '/healthz') return reply(response, 200, 'text/plain', 'ok\n')
    if (path === '/readyz') return ready(context.readiness, response)
    const operator =
      path === '/stats' || path === '/metrics' || path === '/admin' || path.startsWith('/admin/')
    if (role === 'public' && operator) {
      return reply(response, 404, 'text/plain', 'not found here: see the admin listener\n')
    }
    if (role === 'admin' && !operator) return reply(response, 404, 'text/plain', 'not found\n')
    if (context.api(request, response)) return
    if (path === '/stats' || path === '/metrics') {
      if (context.opsToken !== null && !hasBearerToken(request, context.opsToken)) {
        return unauthorized(response)
      }
      if (path === '/stats') {
        const reset = new URLSearchParams(query).has('reset')
        return reply(response, 200, 'application/json', `${JSON.stringify(context.stats(reset))}\n`)
      }
      void context.metrics().then(
        (text) => reply(response, 200, context.metricsType, text),
        () => reply(response, 500, 'text/plain', 'metrics failed\n'),
      )
      return
    }
    void serveStatic(context.staticDir, path, response).then((served) => {
      if (served) return
      // No app built there: the landing page says how to reach the relay.
      if (path === '/') reply(response, 200, 'text/html; charset=utf-8', LANDING_PAGE)
      else reply(response, 404, 'text/plain', 'not found\n')
    })
  }

const ready = (readiness: Readiness, response: ServerResponse): void => {
  void readiness
    .check()
    .then((state) => reply(response, state.ready ? 200 : 503, 'text/plain', readinessText(state)))
}

/** 401 as the HTTP API answers it: `{ code, message }`. */
const unauthorized = (response: ServerResponse): void => {
  response.writeHead(401, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'www-authenticate': 'Bearer',
  })
  const message =
    'send Authorization: Bearer <admin token> (the relay runs with --metrics-auth admin-token)'
  response.end(`${JSON.stringify({ code: 'UNAUTHORIZED', message })}\n`)
}

const reply = (response: ServerResponse, status: number, type: string, body: string): void => {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' })
  response.end(body)
}

const LANDING_PAGE = `<!doctype html>
<meta charset="utf-8"><title>Weft relay</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#f2f2f2;padding:.1em .3em;border-radius:4px}</style>
<h1>Weft relay</h1>
<p>This relay syncs Yjs documents over WebSockets on this port:</p>
<ul>
<li>Weft clients: <code>createClient({ url: 'ws://' + location.host })</code> (subprotocol <code>weft</code>)</li>
<li>y-websocket clients: <code>new WebsocketProvider('ws://' + location.host, docName, doc)</code></li>
</ul>
<p>When this page is served over https, use <code>wss://</code> instead of <code>ws://</code>.</p>
<p>Health: <a href="/healthz">/healthz</a>, readiness: <a href="/readyz">/readyz</a>.</p>
`
