/**
 * Two relay processes on one PostgreSQL, linked by `--redis-url`: clients on either see each
 * other's edits, and a relay that loses Redis stays ready (saying so) and catches up afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClient, type DocHandle, type WeftClient } from '@weft/client'
import {
  spawnRelay,
  startPostgres,
  startRedis,
  untilSameState,
  type RelayProcess,
  type TestPostgres,
  type TestRedis,
} from '@weft/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { parseCommand } from '../src/config.js'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))

let postgres: TestPostgres
let redis: TestRedis
let dataDir: string
const clients: WeftClient[] = []
const relays: RelayProcess[] = []

beforeAll(async () => {
  ;[postgres, redis] = await Promise.all([startPostgres(), startRedis()])
  dataDir = await mkdtemp(join(tmpdir(), 'weft-redis-relay-'))
}, 300_000)

afterAll(async () => {
  await Promise.all([postgres?.stop(), redis?.stop()])
  await rm(dataDir, { recursive: true, force: true })
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
  for (const relay of relays.splice(0))
    if (relay.child.exitCode === null) await relay.stop('SIGKILL')
})

const start = async (url: string): Promise<RelayProcess> => {
  const args = ['--store', 'postgres', '--postgres-url', url, '--redis-url', redis.url]
  const relay = await spawnRelay(MAIN, dataDir, args)
  relays.push(relay)
  return relay
}

const open = async (url: string, name: string): Promise<DocHandle> => {
  const client = createClient({ url, WebSocket, backoff: { initialMs: 20, maxMs: 100 } })
  clients.push(client)
  const handle = client.open(name)
  await handle.whenSynced()
  return handle
}

/** Resolves with `/readyz` once its body matches `pattern` (checked after each answer). */
const untilReadyz = async (relay: RelayProcess, pattern: RegExp, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const response = await fetch(`http://127.0.0.1:${relay.port}/readyz`)
    const body = await response.text()
    if (pattern.test(body)) return { status: response.status, body }
    if (Date.now() > deadline) throw new Error(`/readyz said ${response.status} ${body}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('relays linked by --redis-url', () => {
  it('share edits, stay ready without Redis (saying so) and catch up once it is back', async () => {
    const url = await postgres.createDatabase()
    const [a, b] = await Promise.all([start(url), start(url)])
    // /readyz names both dependencies.
    await untilReadyz(a, /^ready\npostgres: up\nredis: up\n$/)
    await untilReadyz(b, /^ready\npostgres: up\nredis: up\n$/)
    const [onA, onB] = await Promise.all([open(a.url, 'notes'), open(b.url, 'notes')])
    onA.doc.getText('t').insert(0, 'from A. ')
    await onA.whenSaved()
    await untilSameState([onA.doc, onB.doc])

    await redis.kill()
    const down = await untilReadyz(a, /redis down/)
    expect(down.status).toBe(200)
    expect(down.body).toMatch(/^ready \(redis down: [^\n]*\)\npostgres: up\nredis: down\n$/)
    const stats = (await (await fetch(`http://127.0.0.1:${a.port}/stats`)).json()) as {
      redis: string
    }
    expect(stats.redis).toBe('down')
    onA.doc.getText('t').insert(0, 'while Redis is down. ')
    await onA.whenSaved()

    await redis.restart()
    await untilReadyz(b, /^ready\npostgres: up\nredis: up\n$/)
    await untilSameState([onA.doc, onB.doc])
    expect(onB.doc.getText('t').toString()).toBe('while Redis is down. from A. ')
  }, 60_000)

  it('needs --store postgres', () => {
    expect(
      parseCommand(['--auth', 'open', '--redis-url', 'redis://127.0.0.1:6379'], {}),
    ).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('--redis-url links relays that share one store'),
    })
  })
})
