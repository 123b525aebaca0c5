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

const start = async (): Promise<RunningRelay> => {
  const command = parseCommand(['--port', '0', '--store', 'memory', '--auth', 'open'], {})
  if (command.kind !== 'run') throw new Error('bad test config')
  running = await startRelayServer(command.config as RelayConfig, silentLogger)
  return running
}

describe('the relay HTTP routes', () => {
  it('answer /healthz, /readyz and the landing page, and 404 elsewhere', async () => {
    const relay = await start()
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
