/**
 * The bus metrics on `/metrics` of two relays on one PostgreSQL linked by Redis: up, messages
 * each way, no gap, and the catch-up of each relay once Redis comes back after it was killed.
 */
import { createClient, type DocHandle, type WeftClient } from '@weft/client'
import { silentLogger } from '@weft/server'
import {
  startPostgres,
  startRedis,
  untilSameState,
  type TestPostgres,
  type TestRedis,
} from '@weft/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { parseCommand, type RelayConfig } from '../src/config.js'
import { startRelayServer, type RunningRelay } from '../src/relay-server.js'
import { scrape, untilScraped } from './metrics-scrape.js'

let postgres: TestPostgres
let redis: TestRedis
const clients: WeftClient[] = []
const relays: RunningRelay[] = []

beforeAll(async () => {
  ;[postgres, redis] = await Promise.all([startPostgres(), startRedis()])
}, 300_000)

afterAll(async () => {
  await Promise.all([postgres?.stop(), redis?.stop()])
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
  await Promise.all(relays.splice(0).map((relay) => relay.close()))
})

const startRelay = async (postgresUrl: string): Promise<RunningRelay> => {
  const args = [
    '--port',
    '0',
    '--auth',
    'open',
    '--store',
    'postgres',
    '--postgres-url',
    postgresUrl,
  ]
  const command = parseCommand([...args, '--redis-url', redis.url], {})
  if (command.kind !== 'run') throw new Error('bad test config')
  const relay = await startRelayServer(command.config as RelayConfig, silentLogger)
  relays.push(relay)
  return relay
}

const open = async (relay: RunningRelay, name: string): Promise<DocHandle> => {
  const url = relay.url.replace('http', 'ws')
  const client = createClient({ url, WebSocket, backoff: { initialMs: 20, maxMs: 100 } })
  clients.push(client)
  const handle = client.open(name)
  await handle.whenSynced()
  return handle
}

const EDITS = 3
const sent = 'weft_bus_messages_total{direction="out",kind="update"}'
const received = 'weft_bus_messages_total{direction="in",kind="update"}'
const reconnected = 'weft_bus_catchups_total{reason="reconnect",result="ok"}'

describe('GET /metrics of relays linked by --redis-url', () => {
  it('reports the bus up and down, its messages each way, and the catch-ups after an outage', async () => {
    const postgresUrl = await postgres.createDatabase()
    const [a, b] = await Promise.all([startRelay(postgresUrl), startRelay(postgresUrl)])
    for (const relay of [a, b]) await untilScraped(relay.url, (value) => value('weft_bus_up') === 1)
    const [writer, reader] = await Promise.all([open(a, 'notes'), open(b, 'notes')])
    for (let edit = 0; edit < EDITS; edit += 1) {
      writer.doc.getText('t').insert(0, `edit ${edit} `)
      await writer.whenSaved()
    }
    await untilSameState([writer.doc, reader.doc])

    // Each acknowledged edit went from A to B over the bus twice, ahead of its record and as its
    // record, but the first: A created the document with it, and sends nothing ahead before it
    // knows which life of the document it holds. Nothing went missing.
    const messages = 2 * EDITS - 1
    const onB = await untilScraped(b.url, (value) => value(received) === messages)
    const onA = await scrape(a.url)
    expect([onA.get(sent), onB.get(sent), onA.get(received)]).toEqual([messages, 0, 0])
    for (const samples of [onA, onB]) {
      expect(samples.get('weft_bus_gaps_total')).toBe(0)
      expect(samples.get('weft_bus_catchups_total{reason="gap",result="ok"}')).toBe(0)
      expect(samples.get(reconnected)).toBe(0)
      // Each relay asked for presence once, on loading the document.
      expect(samples.get('weft_bus_messages_total{direction="out",kind="awareness-query"}')).toBe(1)
    }

    await redis.kill()
    for (const relay of [a, b]) await untilScraped(relay.url, (value) => value('weft_bus_up') === 0)
    await redis.restart()
    // Back up, each relay read its loaded document from the store again.
    for (const relay of [a, b]) {
      const samples = await untilScraped(
        relay.url,
        (value) => value('weft_bus_up') === 1 && value(reconnected) >= 1,
      )
      expect(samples.get('weft_bus_catchup_seconds_count')).toBeGreaterThanOrEqual(1)
      expect(samples.get('weft_bus_catchup_seconds_bucket{le="+Inf"}')).toBe(
        samples.get('weft_bus_catchup_seconds_count'),
      )
    }
  }, 60_000)
})
