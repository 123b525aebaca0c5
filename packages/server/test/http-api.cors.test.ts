import { startTestRelay, type TestRelay } from '@weft/testkit'
import type { HttpApiOptions } from '@weft/server/http'
import { afterEach, describe, expect, it } from 'vitest'

// Browser calls to the relay's /v1 API over loopback HTTP, with the Origin and preflight
// headers a browser sends.
const APP = 'https://app.example.com'
const OTHER = 'https://evil.example.net'

let relay: TestRelay | null = null
afterEach(async () => {
  await relay?.close()
  relay = null
})

const start = async (
  allowedOrigins: readonly string[] | null,
  httpApi: HttpApiOptions = {},
): Promise<TestRelay> =>
  (relay = await startTestRelay({ httpApi, historyMs: 60_000, allowedOrigins }))

const call = (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${relay?.httpUrl}${path}`, init)

/** The preflight a browser sends before a POST with a token and a JSON body. */
const preflight = (origin: string): Promise<Response> =>
  call('/v1/docs/notes/update', {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  })

describe('CORS on the /v1 API', () => {
  it('answers a preflight from an allowed origin with the methods and headers the routes use', async () => {
    await start([APP])
    const response = await preflight(APP)
    expect(response.status).toBe(204)
    expect(response.headers.get('access-control-allow-origin')).toBe(APP)
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST')
    const headers = response.headers.get('access-control-allow-headers') ?? ''
    expect(headers).toMatch(/Authorization/)
    expect(headers).toMatch(/Content-Type/)
    expect(response.headers.get('access-control-max-age')).toBe('600')
    expect(response.headers.get('vary')).toMatch(/Origin/)
    // Tokens travel in Authorization, never in cookies: no credentials mode.
    expect(response.headers.get('access-control-allow-credentials')).toBeNull()
  })

  it('refuses a preflight from another origin with 403 ORIGIN_NOT_ALLOWED', async () => {
    await start([APP])
    const response = await preflight(OTHER)
    expect(response.status).toBe(403)
    expect(response.headers.get('access-control-allow-origin')).toBeNull()
    expect(await response.json()).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED' })
  })

  it('marks an allowed origin’s answers readable, and refuses requests from another origin', async () => {
    await start([APP])
    const allowed = await call('/v1/feed/head', { headers: { origin: APP } })
    expect(allowed.status).toBe(200)
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP)
    expect(allowed.headers.get('access-control-expose-headers')).toMatch(/X-Correlation-Id/)
    expect(allowed.headers.get('vary')).toMatch(/Origin/)
    // Errors of the routes carry it too, so the page can read their code.
    const missing = await call('/v1/nowhere', { headers: { origin: APP } })
    expect(missing.status).toBe(404)
    expect(missing.headers.get('access-control-allow-origin')).toBe(APP)

    const write = await call('/v1/docs/notes/update', {
      method: 'POST',
      headers: { origin: OTHER, 'content-type': 'text/plain' },
      body: 'not applied',
    })
    expect(write.status).toBe(403)
    expect(write.headers.get('access-control-allow-origin')).toBeNull()
    const body = (await write.json()) as { code: string; message: string }
    expect(body.code).toBe('ORIGIN_NOT_ALLOWED')
    expect(body.message).toMatch(/--allowed-origins/)
    expect(relay?.relay.roomCount).toBe(0)
  })

  it('lets requests without Origin through (servers, curl), without CORS headers', async () => {
    await start([APP])
    const response = await call('/v1/feed/head')
    expect(response.status).toBe(200)
    expect(response.headers.get('access-control-allow-origin')).toBeNull()
    expect(response.headers.get('vary')).toMatch(/Origin/)
  })

  it('sends no CORS headers and refuses no origin without allowedOrigins', async () => {
    await start(null)
    const response = await call('/v1/feed/head', { headers: { origin: OTHER } })
    expect(response.status).toBe(200)
    expect(response.headers.get('access-control-allow-origin')).toBeNull()
    // No preflight answer: a browser will not send a cross-origin call with a token.
    const refused = await preflight(OTHER)
    expect(refused.headers.get('access-control-allow-origin')).toBeNull()
    expect(refused.status).toBe(404)
  })

  it('takes its own list over the relay’s', async () => {
    await start(null, { allowedOrigins: [APP] })
    expect((await preflight(APP)).status).toBe(204)
    expect((await preflight(OTHER)).status).toBe(403)
  })
})
