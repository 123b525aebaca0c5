/**
 * Three relay processes on one PostgreSQL and one Redis: clients spread over them converge, the
 * change feed and webhooks behave as one, and a relay SIGKILLed mid-write loses nothing
 * acknowledged.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { WeftClient } from '@weft/client'
import {
  startPostgres,
  startRedis,
  untilSameState,
  type RelayProcess,
  type TestPostgres,
  type TestRedis,
} from '@weft/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import {
  clientOf,
  failoverClient,
  feedPositions,
  spawnClusterRelay,
  startReceiver,
  storedKeys,
  within,
  writeUntil,
  type Receiver,
} from './cluster-support.js'

let postgres: TestPostgres
let redis: TestRedis
let receiver: Receiver
let dataDir: string
let databaseUrl: string
let relays: RelayProcess[] = []
const clients: WeftClient[] = []
const providers: WebsocketProvider[] = []

const spawn = async (): Promise<RelayProcess> => {
  const relay = await spawnClusterRelay(dataDir, databaseUrl, redis.url, [
    '--webhooks-file',
    join(dataDir, 'webhooks.json'),
  ])
  relays.push(relay)
  return relay
}

const live = (): RelayProcess[] =>
  relays.filter((relay) => relay.child.exitCode === null && relay.child.signalCode === null)

beforeAll(async () => {
  ;[postgres, redis, receiver] = await Promise.all([startPostgres(), startRedis(), startReceiver()])
  dataDir = await mkdtemp(join(tmpdir(), 'weft-cluster-'))
  databaseUrl = await postgres.createDatabase()
  const endpoint = {
    id: 'hooks',
    url: receiver.url,
    secrets: ['cluster-webhook-secret-0123'],
    docs: ['hooks/**'],
    start: 'oldest',
    initialBackoffMs: 50,
  }
  await writeFile(join(dataDir, 'webhooks.json'), JSON.stringify({ endpoints: [endpoint] }))
  await Promise.all([spawn(), spawn(), spawn()])
}, 300_000)

afterAll(async () => {
  for (const provider of providers.splice(0)) provider.destroy()
  await Promise.all(clients.splice(0).map((client) => client.close()))
  await Promise.all(live().map((relay) => relay.stop('SIGKILL')))
  await Promise.all([postgres?.stop(), redis?.stop(), receiver?.close()])
  await rm(dataDir, { recursive: true, force: true })
})

const client = (relay: RelayProcess): WeftClient => {
  const made = clientOf(relay)
  clients.push(made)
  return made
}

const untilAwareness = (
  awareness: { getStates(): Map<number, unknown>; on(n: 'change', f: () => void): void },
  has: number,
): Promise<void> =>
  within(
    new Promise<void>((resolve) => {
      const check = (): void => {
        if (awareness.getStates().has(has)) resolve()
      }
      awareness.on('change', check)
      check()
    }),
    10_000,
    'presence across relays',
  )

describe('three relays on one PostgreSQL and one Redis', () => {
  it('Weft clients and stock providers spread over them converge, and presence crosses relays', async () => {
    const [a, b, c] = relays as [RelayProcess, RelayProcess, RelayProcess]
    const handles = [a, b, c].map((relay) => client(relay).open('spread'))
    const stockDocs = [new Y.Doc(), new Y.Doc()]
    const stock = [b, c].map((relay, index) => {
      const provider = new WebsocketProvider(relay.url, 'spread', stockDocs[index] as Y.Doc, {
        WebSocketPolyfill: WebSocket as never,
        disableBc: true,
      })
      providers.push(provider)
      return provider
    })
    await Promise.all(handles.map((handle) => handle.whenSynced()))
    handles.forEach((handle, index) => handle.doc.getText('t').insert(0, `weft ${index}. `))
    stockDocs.forEach((doc, index) => doc.getText('t').insert(0, `stock ${index}. `))
    await Promise.all(handles.map((handle) => handle.whenSaved()))
    await within(
      untilSameState([...handles.map((handle) => handle.doc), ...stockDocs]),
      10_000,
      'convergence',
    )
    const text = handles[0]?.doc.getText('t').toString() ?? ''
    for (const part of ['weft 0. ', 'weft 1. ', 'weft 2. ', 'stock 0. ', 'stock 1. '])
      expect(text).toContain(part)

    // Presence set on A reaches a stock provider on C, and the other way round.
    const onA = handles[0]!
    onA.awareness.setLocalStateField('user', 'ada')
    stock[1]!.awareness.setLocalStateField('user', 'grace')
    await untilAwareness(stock[1]!.awareness, onA.awareness.clientID)
    await untilAwareness(onA.awareness, stock[1]!.awareness.clientID)
  }, 30_000)

  it("a feed long-poll on one relay wakes for another relay's write", async () => {
    const [a, b] = relays as [RelayProcess, RelayProcess]
    const head = (await (await fetch(`http://127.0.0.1:${b.port}/v1/feed/head`)).json()) as {
      head: string
    }
    const started = Date.now()
    const poll = fetch(`http://127.0.0.1:${b.port}/v1/feed?after=${head.head}&wait=20000`)
    await new Promise((resolve) => setTimeout(resolve, 100))
    const handle = client(a).open('feed/wake')
    handle.doc.getText('t').insert(0, 'wake B')
    await handle.whenSaved()
    const body = (await (await within(poll, 5_000, 'the long-poll')).json()) as {
      events: Array<{ doc: string }>
    }
    expect(body.events.map((event) => event.doc)).toContain('feed/wake')
    // Woken by the write (well before the 20 s wait), within the feed poll's bound.
    expect(Date.now() - started).toBeLessThan(3_000)
  })

  it('webhooks: each event once across three relays, then another relay takes over from a SIGKILLed holder', async () => {
    const [a] = relays as [RelayProcess]
    const writer = client(a).open('hooks/one')
    await writer.whenSynced()
    for (let n = 0; n < 5; n++) {
      writer.doc.getMap('m').set(`before-${n}`, n)
      await writer.whenSaved()
    }
    const before = await feedPositions(a, 'hooks')
    expect(before.length).toBeGreaterThanOrEqual(5)
    await receiver.untilReceived(before, 10_000)
    // One loop in the cluster: no event twice while no relay died.
    for (const position of before) expect(receiver.counts.get(position)).toBe(1)

    const holders = live().filter((relay) =>
      relay.output().includes('webhook endpoint running on this relay'),
    )
    expect(holders).toHaveLength(1)
    const holder = holders[0]!
    await holder.stop('SIGKILL')
    const survivor = live()[0]!
    const other = client(survivor).open('hooks/one')
    await other.whenSynced()
    for (let n = 0; n < 5; n++) {
      other.doc.getMap('m').set(`after-${n}`, n)
      await other.whenSaved()
    }
    const all = await feedPositions(survivor, 'hooks')
    await receiver.untilReceived(all, 10_000)
    expect(
      live().filter((relay) => relay.output().includes('webhook endpoint running on this relay')),
    ).toHaveLength(1)
    // The holder's replacement, for the tests after this one.
    await spawn()
  }, 30_000)

  it('a relay SIGKILLed mid-write: its clients move on, and every acknowledged edit is everywhere', async () => {
    const victim = live()[0]!
    const order = (): RelayProcess[] =>
      [victim, ...live().filter((relay) => relay !== victim)].filter((relay) =>
        live().includes(relay),
      )
    const writers = [0, 1, 2].map(() => {
      const made = failoverClient(order)
      clients.push(made)
      return made.open('failover')
    })
    await Promise.all(writers.map((writer) => writer.whenSynced()))
    const acked = new Set<string>()
    let stopping = false
    const writing = writers.map((writer, index) =>
      writeUntil(writer, `w${index}`, acked, () => stopping),
    )
    await new Promise((resolve) => setTimeout(resolve, 500))
    const beforeKill = acked.size
    await victim.stop('SIGKILL')
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    stopping = true
    await Promise.all(writing)
    expect(beforeKill).toBeGreaterThan(0)
    expect(acked.size).toBeGreaterThan(beforeKill)

    const survivors = live()
    expect(survivors.length).toBeGreaterThanOrEqual(2)
    for (const relay of survivors) {
      const reader = client(relay).open('failover')
      await reader.whenSynced()
      await within(
        new Promise<void>((resolve) => {
          const check = (): void => {
            const keys = new Set(reader.doc.getMap('m').keys())
            if ([...acked].every((key) => keys.has(key))) resolve()
          }
          reader.doc.on('update', check)
          check()
        }),
        10_000,
        `acknowledged edits on the relay at ${relay.port}`,
      )
    }
    const stored = await storedKeys(databaseUrl, 'failover')
    for (const key of acked) expect(stored.has(key), key).toBe(true)
  }, 40_000)
})
