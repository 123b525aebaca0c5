import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@weft/server'
import { RawSocket } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { parseCommand, type RelayConfig } from '../src/config.js'
import { startRelayServer, type RunningRelay } from '../src/relay-server.js'

let running: RunningRelay | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

const start = async (args: string[] = []): Promise<RunningRelay> => {
  const command = parseCommand(['--port', '0', '--store', 'memory', '--auth', 'open', ...args], {})
  if (command.kind !== 'run') throw new Error('bad test config')
  running = await startRelayServer(command.config as RelayConfig, silentLogger)
  return running
}

describe('the relay HTTP routes', () => {
  it('serve a built app from --static-dir, and nothing outside it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'weft-static-'))
    mkdirSync(join(root, 'assets'))
    writeFileSync(join(root, 'index.html'), '<title>app</title>')
    writeFileSync(join(root, 'assets', 'app-1.js'), 'console.log(1)')
    writeFileSync(join(tmpdir(), 'weft-outside.txt'), 'secret')
    const relay = await start(['--static-dir', root])
    const page = await fetch(`${relay.url}/`)
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(await page.text()).toBe('<title>app</title>')
    const script = await fetch(`${relay.url}/assets/app-1.js`)
    expect(script.headers.get('content-type')).toContain('text/javascript')
    expect(script.headers.get('cache-control')).toContain('immutable')
    // Raw paths (fetch would normalize the dots away before sending).
    for (const escape of [
      '/../weft-outside.txt',
      '/%2e%2e/weft-outside.txt',
      '/assets/..%2f..%2fweft-outside.txt',
      '/..\\weft-outside.txt',
    ]) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: relay.port, path: escape }, (response) => {
          response.resume()
          resolve(response.statusCode ?? 0)
        })
        req.on('error', reject)
        req.end()
      })
      expect(status, escape).toBe(404)
    }
    expect(await (await fetch(`${relay.url}/healthz`)).text()).toBe('ok\n')
  })

  it('answer /healthz, /readyz and the landing page, and 404 elsewhere', async () => {
    // No app in the static directory: the landing page.
    const relay = await start(['--static-dir', mkdtempSync(join(tmpdir(), 'weft-empty-'))])
    expect(await (await fetch(`${relay.url}/healthz`)).text()).toBe('ok\n')
    expect((await fetch(`${relay.url}/readyz`)).status).toBe(200)
    expect(await (await fetch(`${relay.url}/`)).text()).toContain('Weft relay')
    expect((await fetch(`${relay.url}/nope`)).status).toBe(404)
  })

  it('report connections, rooms, memory and event-loop lag at /stats', async () => {
    const relay = await start()
    const socket = await RawSocket.weft(relay.url.replace('http', 'ws'))
    socket.sendMessage({ type: 'open', doc: 'counted', stateVector: new Uint8Array([0]) })
    await socket.nextMessage((message) => message.type === 'sync-step-1')
    const stats = (await (await fetch(`${relay.url}/stats`)).json()) as Record<string, unknown>
    expect(stats).toMatchObject({ connections: 1, rooms: 1 })
    expect(stats.rssBytes).toBeGreaterThan(0)
    expect(stats.eventLoopLagMs).toMatchObject({ p99: expect.any(Number), max: expect.any(Number) })
    socket.close()
  })
})
