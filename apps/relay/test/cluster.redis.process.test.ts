/**
 * Three relay processes on one PostgreSQL and one Redis while Redis is frozen (SIGSTOP) or
 * killed and restarted under continuous writes on every relay, and while two relays race to
 * compact the same document: every relay keeps acknowledging its own clients, they converge
 * once Redis is back, and nothing acknowledged is lost. A document deleted while Redis is frozen
 * is not recreated by a relay that missed the deletion. The operator routes (history, a document
 * at a time, restore) answer the same on every relay.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DocHandle, WeftClient } from '@weft/client'
import {
  startPostgres,
  startRedis,
  until,
  untilSameState,
  type RelayProcess,
  type TestPostgres,
  type TestRedis,
} from '@weft/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { clientOf, spawnClusterRelay, storedKeys, within, writeUntil } from './cluster-support.js'

const ADMIN_TOKEN = 'cluster-admin-token-0123456789abcdef'

let postgres: TestPostgres
let redis: TestRedis
let dataDir: string
let databaseUrl: string
let relays: RelayProcess[] = []
const clients: WeftClient[] = []

beforeAll(async () => {
  ;[postgres, redis] = await Promise.all([startPostgres(), startRedis()])
  dataDir = await mkdtemp(join(tmpdir(), 'weft-cluster-redis-'))
  databaseUrl = await postgres.createDatabase()
  relays = await Promise.all(
    [0, 1, 2].map(() =>
      spawnClusterRelay(dataDir, databaseUrl, redis.url, [
        '--compact-after-updates',
        '8',
        '--admin-token',
        ADMIN_TOKEN,
      ]),
    ),
  )
}, 300_000)

afterAll(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
  await Promise.all(relays.map((relay) => relay.stop('SIGKILL')))
  await Promise.all([postgres?.stop(), redis?.stop()])
  await rm(dataDir, { recursive: true, force: true })
})

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** One writer per relay (each pinned to it), all on document `name`, synced. */
const writersOn = async (on: readonly RelayProcess[], name: string): Promise<DocHandle[]> => {
  const handles = on.map((relay) => {
    const client = clientOf(relay)
    clients.push(client)
    return client.open(name)
  })
  await Promise.all(handles.map((handle) => handle.whenSynced()))
  return handles
}

/** Resolves once every handle's map holds every key of `acked` (bounded). */
const untilHolds = (handles: readonly DocHandle[], acked: ReadonlySet<string>, what: string) =>
  within(
    Promise.all(
      handles.map(
        (handle) =>
          new Promise<void>((resolve) => {
            const check = (): void => {
              const keys = new Set(handle.doc.getMap('m').keys())
              if ([...acked].every((key) => keys.has(key))) {
                handle.doc.off('update', check)
                resolve()
              }
            }
            handle.doc.on('update', check)
            check()
          }),
      ),
    ),
    20_000,
    what,
  )

/** A relay's `weft_compactions_total{result="ok"}`. */
const compactions = async (relay: RelayProcess): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${relay.port}/metrics`)).text()
  const line = text.split('\n').find((row) => row.startsWith('weft_compactions_total{result="ok"}'))
  return line === undefined ? 0 : Number(line.split(' ').pop())
}

const outages = [
  {
    name: 'frozen (SIGSTOP)',
    begin: () => Promise.resolve(redis.pause()),
    end: () => Promise.resolve(redis.resume()),
  },
  { name: 'killed and restarted', begin: () => redis.kill(), end: () => redis.restart() },
]

describe.each(outages)('Redis $name while three relays take writes', ({ name, begin, end }) => {
  it('every relay keeps acknowledging, they converge afterwards, and nothing acknowledged is lost', async () => {
    const doc = `outage/${name.split(' ')[0]}`
    const writers = await writersOn(relays, doc)
    const acked = new Set<string>()
    let stopping = false
    const writing = writers.map((writer, index) =>
      writeUntil(writer, `r${index}`, acked, () => stopping),
    )
    await sleep(400)
    await begin()
    const atOutage = acked.size
    await sleep(2_000)
    // `saved` needs PostgreSQL only: every relay went on acknowledging its own clients.
    const duringOutage = acked.size - atOutage
    await end()
    await sleep(1_000)
    stopping = true
    await Promise.all(writing)
    expect(atOutage).toBeGreaterThan(0)
    expect(duringOutage).toBeGreaterThan(3)
    for (let index = 0; index < writers.length; index++) {
      const own = [...acked].filter((key) => key.startsWith(`r${index}-`))
      expect(own.length, `writes acknowledged by relay ${index}`).toBeGreaterThan(0)
    }

    await untilHolds(writers, acked, `every acknowledged edit on every relay after Redis ${name}`)
    await within(untilSameState(writers.map((writer) => writer.doc)), 10_000, 'convergence')
    const stored = await storedKeys(databaseUrl, doc)
    for (const key of acked) expect(stored.has(key), key).toBe(true)
  }, 60_000)
})

describe('two relays racing to compact one document', () => {
  it('never lose an update: writes on both, compactions forced on both at once', async () => {
    const pair = relays.slice(0, 2)
    const before = await Promise.all(pair.map(compactions))
    const writers = await writersOn(pair, 'race')
    const acked = new Set<string>()
    let stopping = false
    const writing = writers.map((writer, index) =>
      writeUntil(writer, `c${index}`, acked, () => stopping),
    )
    const compact = (relay: RelayProcess) =>
      fetch(`http://127.0.0.1:${relay.port}/admin/docs/race/compact`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      }).then((response) => response.status)
    const statuses: number[] = []
    for (let round = 0; round < 20; round++) {
      statuses.push(...(await Promise.all(pair.map(compact))))
      await sleep(100)
    }
    stopping = true
    await Promise.all(writing)
    expect(statuses.every((status) => status === 200)).toBe(true)
    const after = await Promise.all(pair.map(compactions))
    // Both relays compacted (forced and by --compact-after-updates) while both wrote.
    pair.forEach((_, index) => expect(after[index]! - before[index]!).toBeGreaterThan(5))
    expect(acked.size).toBeGreaterThan(20)

    // Fresh readers load the document from PostgreSQL on every relay, the third included.
    const readers = await writersOn(relays, 'race')
    await untilHolds([...writers, ...readers], acked, 'every acknowledged edit after the race')
    const stored = await storedKeys(databaseUrl, 'race')
    for (const key of acked) expect(stored.has(key), key).toBe(true)
  }, 60_000)
})

describe('a document deleted on one relay while Redis is frozen', () => {
  it('is not recreated by the relays that missed it: a writer there gets DOC_DELETED, an idle one too once Redis is back', async () => {
    const [a, b, c] = relays as [RelayProcess, RelayProcess, RelayProcess]
    const [onA, writer, idle] = await writersOn([a, b, c], 'gone')
    onA!.doc.getMap('m').set('before', 1)
    await onA!.whenSaved()
    await within(untilSameState([onA!.doc, writer!.doc, idle!.doc]), 10_000, 'first sync')

    redis.pause()
    try {
      const deleted = await fetch(`http://127.0.0.1:${a.port}/admin/docs/gone`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })
      expect(deleted.status).toBe(204)
      // B never heard of the deletion: its next append requires the life of the document it
      // loaded, which is gone.
      writer!.doc.getMap('m').set('orphan', 2)
      await until(writer!, 'status', () => writer!.status.state === 'error')
      expect(writer!.status).toMatchObject({ state: 'error', code: 'DOC_DELETED' })
      expect(idle!.status.state).not.toBe('error')
    } finally {
      redis.resume()
    }
    // C catches up once its bus reconnects, and finds the document gone.
    await until(idle!, 'status', () => idle!.status.state === 'error', undefined, 15_000)
    expect(idle!.status).toMatchObject({ state: 'error', code: 'DOC_DELETED' })
    expect([...(await storedKeys(databaseUrl, 'gone'))]).toEqual([])
  }, 60_000)
})

describe('the operator routes of three relays', () => {
  const admin = (relay: RelayProcess, path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`http://127.0.0.1:${relay.port}/admin/docs/${encodeURIComponent('audit/doc')}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })
  const historyOf = async (relay: RelayProcess) =>
    (
      (await (await admin(relay, '/history')).json()) as {
        entries: Array<{ author: string; receivedAtMs: number }>
      }
    ).entries
  const stepAt = async (relay: RelayProcess, atMs: number): Promise<unknown> => {
    const doc = new Y.Doc()
    Y.applyUpdate(
      doc,
      new Uint8Array(await (await admin(relay, `/export?at=${atMs}`)).arrayBuffer()),
    )
    return doc.getMap('m').get('step')
  }

  it('answer history, point-in-time export and restore the same on every relay, and a restore made on one reaches clients of the others', async () => {
    const [a, b, c] = relays as [RelayProcess, RelayProcess, RelayProcess]
    const [onA, onB] = await writersOn([a, b], 'audit/doc')
    onA!.doc.getMap('m').set('step', 1)
    await onA!.whenSaved()
    await within(untilSameState([onA!.doc, onB!.doc]), 10_000, 'the first step on B')
    onB!.doc.getMap('m').set('step', 2)
    await onB!.whenSaved()
    await within(untilSameState([onA!.doc, onB!.doc]), 10_000, 'the second step on A')

    const histories = await Promise.all(relays.map(historyOf))
    expect(histories[0]).toHaveLength(2)
    expect(histories[1]).toEqual(histories[0])
    expect(histories[2]).toEqual(histories[0])
    const firstAt = histories[0]![0]!.receivedAtMs
    expect(await Promise.all(relays.map((relay) => stepAt(relay, firstAt)))).toEqual([1, 1, 1])

    // Restored on C, which serves no client of the document: A's and B's clients receive it.
    const restored = await admin(c, `/restore?at=${firstAt}`, { method: 'POST' })
    expect(restored.status).toBe(200)
    await Promise.all(
      [onA!, onB!].map((handle) =>
        until(handle.doc, 'update', () => handle.doc.getMap('m').get('step') === 1),
      ),
    )
    const after = await Promise.all(relays.map(historyOf))
    expect(after[0]).toHaveLength(3)
    expect(after[0]![2]!.author).toMatch(/^admin:/)
    expect(after[1]).toEqual(after[0])
    expect(after[2]).toEqual(after[0])
  }, 30_000)
})
