/**
 * The relay process on `--store postgres`: what a client saved survives a SIGKILL, and `/readyz`
 * follows PostgreSQL going away and coming back.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClient, type DocHandle, type WeftClient } from '@weft/client'
import { spawnRelay, startPostgres, type RelayProcess, type TestPostgres } from '@weft/testkit'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { parseCommand } from '../src/config.js'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))

let server: TestPostgres
let dataDir: string
let clients: WeftClient[]
let relays: RelayProcess[]

beforeAll(async () => {
  server = await startPostgres()
}, 60_000)
afterAll(async () => {
  await server.stop()
})
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'weft-postgres-relay-'))
  clients = []
  relays = []
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
  for (const relay of relays) if (relay.child.exitCode === null) await relay.stop('SIGKILL')
  await rm(dataDir, { recursive: true, force: true })
})

const start = async (url: string): Promise<RelayProcess> => {
  const relay = await spawnRelay(MAIN, dataDir, ['--store', 'postgres', '--postgres-url', url])
  relays.push(relay)
  return relay
}

const open = async (url: string, name: string): Promise<DocHandle> => {
  const client = createClient({ url, WebSocket })
  clients.push(client)
  const handle = client.open(name)
  await handle.whenSynced()
  return handle
}

const readyz = async (relay: RelayProcess): Promise<number> =>
  (await fetch(`http://127.0.0.1:${relay.port}/readyz`)).status

const readyzText = async (relay: RelayProcess): Promise<string> =>
  (await fetch(`http://127.0.0.1:${relay.port}/readyz`)).text()

/** Resolves once `/readyz` answers `status`, checking after each answer (no fixed sleeps). */
const untilReadyz = async (relay: RelayProcess, status: number, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const got = await readyz(relay)
    if (got === status) return
    if (Date.now() > deadline) throw new Error(`/readyz stayed ${got}, expected ${status}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('the relay on PostgreSQL', () => {
  it('keeps a saved edit across a SIGKILL and a restart', async () => {
    const url = await server.createDatabase()
    const first = await start(url)
    const writer = await open(first.url, 'notes')
    writer.doc.getText('t').insert(0, 'kept in PostgreSQL')
    await writer.whenSaved()
    expect(await first.stop('SIGKILL')).toBe('SIGKILL')
    await Promise.all(clients.splice(0).map((client) => client.close()))

    const second = await start(url)
    const reader = await open(second.url, 'notes')
    expect(reader.doc.getText('t').toString()).toBe('kept in PostgreSQL')
  }, 60_000)

  it('is not ready while PostgreSQL is stopped, and ready again once it is back', async () => {
    const relay = await start(await server.createDatabase())
    expect(await readyz(relay)).toBe(200)
    expect(await readyzText(relay)).toBe('ready\npostgres: up\n')
    await server.halt()
    try {
      await untilReadyz(relay, 503)
      expect(await readyzText(relay)).toMatch(/^store unreachable: [^\n]+\npostgres: down\n$/)
    } finally {
      await server.start()
    }
    await untilReadyz(relay, 200)
    const writer = await open(relay.url, 'after')
    writer.doc.getText('t').insert(0, 'written after the outage')
    await writer.whenSaved()
  }, 60_000)
})

describe('--store postgres options', () => {
  it('needs --postgres-url, which applies to it only, and never repeats the URL', () => {
    expect(parseCommand(['--auth', 'open', '--store', 'postgres'], {})).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('--store postgres needs --postgres-url'),
    })
    const url = 'postgres://weft:hunter2-password@db/weft'
    expect(parseCommand(['--auth', 'open', '--postgres-url', url], {})).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('--postgres-url applies to --store postgres only'),
    })
    const bad = parseCommand(['--auth', 'open', '--store', 'postgres'], {
      WEFT_POSTGRES_URL: 'mysql://weft:hunter2-password@db/weft',
    })
    expect(bad).toMatchObject({ kind: 'invalid' })
    expect(JSON.stringify(bad)).not.toContain('hunter2')
    expect(
      parseCommand(['--auth', 'open', '--store', 'postgres'], { WEFT_POSTGRES_URL: url }),
    ).toMatchObject({ config: { store: 'postgres', 'postgres-url': url } })
  })
})
