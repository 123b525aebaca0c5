import { silentLogger } from '@weft/server'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { parseCommand, type RelayConfig } from '../src/config.js'
import { startRelayServer, type RunningRelay } from '../src/relay-server.js'

// What the relay's HTTP listeners serve, and to whom: /metrics and /stats behind the admin token,
// the operator routes on their own listener, and the /v1 options reaching the API.
const TOKEN = 'an-admin-token-of-at-least-32-characters'
const APP = 'https://app.example.com'

let running: RunningRelay | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

const start = async (args: string[]): Promise<RunningRelay> => {
  const command = parseCommand(['--port', '0', '--store', 'memory', '--auth', 'open', ...args], {})
  if (command.kind !== 'run') throw new Error(`bad test config: ${JSON.stringify(command)}`)
  running = await startRelayServer(command.config as RelayConfig, silentLogger)
  return running
}

/** GET `url`; with `token`, as `Authorization: Bearer <token>`. */
const get = (url: string, token?: string): Promise<Response> =>
  fetch(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } })

const statusOf = async (url: string, token?: string): Promise<number> => {
  const response = await get(url, token)
  await response.arrayBuffer()
  return response.status
}

describe('--metrics-auth admin-token', () => {
  it('refuses /metrics and /stats without the admin token (401) and serves them with it', async () => {
    const relay = await start(['--admin-token', TOKEN, '--metrics-auth', 'admin-token'])
    for (const path of ['/metrics', '/stats']) {
      const refused = await get(`${relay.url}${path}`)
      expect(refused.status, path).toBe(401)
      expect(refused.headers.get('www-authenticate')).toBe('Bearer')
      expect(await refused.json()).toMatchObject({ code: 'UNAUTHORIZED' })
      expect(await statusOf(`${relay.url}${path}`, `${TOKEN}x`), path).toBe(401)
    }
    const metrics = await get(`${relay.url}/metrics`, TOKEN)
    expect(metrics.status).toBe(200)
    expect(await metrics.text()).toMatch(/^weft_connections /m)
    const stats = await get(`${relay.url}/stats`, TOKEN)
    expect(await stats.json()).toMatchObject({ connections: 0, rooms: 0 })
    // Health stays open: load balancers and orchestrators carry no token.
    expect(await statusOf(`${relay.url}/healthz`)).toBe(200)
    expect(await statusOf(`${relay.url}/readyz`)).toBe(200)
  })

  it('keeps them open by default', async () => {
    const relay = await start([])
    expect(await statusOf(`${relay.url}/metrics`)).toBe(200)
    expect(await statusOf(`${relay.url}/stats`)).toBe(200)
    expect(running?.adminUrl).toBeNull()
  })

  it('needs --admin-token', () => {
    const command = parseCommand(['--auth', 'open', '--metrics-auth', 'admin-token'], {})
    expect(command).toMatchObject({ kind: 'invalid' })
    expect((command as { message: string }).message).toMatch(
      /--metrics-auth admin-token needs --admin-token/,
    )
  })
})

describe('--admin-port', () => {
  it('serves /admin, /metrics and /stats on the admin listener only', async () => {
    const relay = await start(['--admin-token', TOKEN, '--admin-port', '0'])
    const admin = relay.adminUrl ?? ''
    expect(admin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(admin).not.toBe(relay.url)
    expect(await statusOf(`${admin}/metrics`)).toBe(200)
    expect(await statusOf(`${admin}/stats`)).toBe(200)
    expect(await statusOf(`${admin}/admin/docs`, TOKEN)).toBe(200)
    // The admin token is still needed there.
    expect(await statusOf(`${admin}/admin/docs`)).toBe(401)
    for (const path of ['/metrics', '/stats', '/admin/docs']) {
      expect(await statusOf(`${relay.url}${path}`, TOKEN), path).toBe(404)
    }
    // The public listener keeps the API, health and the landing page; the admin one has no API.
    expect(await statusOf(`${relay.url}/v1/feed/head`)).toBe(200)
    expect(await statusOf(`${relay.url}/`)).toBe(200)
    expect(await statusOf(`${admin}/v1/feed/head`)).toBe(404)
    expect(await statusOf(`${admin}/`)).toBe(404)
    expect(await statusOf(`${admin}/healthz`)).toBe(200)
    expect(await statusOf(`${admin}/readyz`)).toBe(200)
    // No WebSockets there either: the upgrade is answered like any other path.
    const upgrade = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(`${admin.replace('http', 'ws')}/notes`)
      socket.once('open', () => resolve(101))
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0))
      socket.once('error', reject)
    })
    expect(upgrade).toBe(404)
  })

  it('combines with --metrics-auth admin-token', async () => {
    const relay = await start([
      '--admin-token',
      TOKEN,
      '--admin-port',
      '0',
      '--metrics-auth',
      'admin-token',
    ])
    expect(await statusOf(`${relay.adminUrl}/metrics`)).toBe(401)
    expect(await statusOf(`${relay.adminUrl}/metrics`, TOKEN)).toBe(200)
  })

  it('refuses the port of --port', () => {
    const command = parseCommand(['--auth', 'open', '--port', '9000', '--admin-port', '9000'], {})
    expect((command as { message: string }).message).toMatch(/a port of its own/)
  })
})

describe('the /v1 options of the relay', () => {
  it('--max-requests-per-sec limits /v1 per client address', async () => {
    const relay = await start(['--max-requests-per-sec', '1'])
    const statuses = []
    for (let index = 0; index < 3; index++)
      statuses.push(await statusOf(`${relay.url}/v1/feed/head`))
    expect(statuses).toEqual([200, 200, 429])
    // Not the rest of the surface.
    expect(await statusOf(`${relay.url}/healthz`)).toBe(200)
    expect(await statusOf(`${relay.url}/metrics`)).toBe(200)
  })

  it('--allowed-origins answers preflights to /v1 from those origins only', async () => {
    const relay = await start(['--allowed-origins', APP])
    const preflight = (origin: string): Promise<Response> =>
      fetch(`${relay.url}/v1/feed/head`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET' },
      })
    const allowed = await preflight(APP)
    expect(allowed.status).toBe(204)
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP)
    expect((await preflight('https://other.example.com')).status).toBe(403)
  })
})
