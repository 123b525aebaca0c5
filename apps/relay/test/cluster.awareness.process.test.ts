/**
 * Presence across three relay processes on one PostgreSQL and one Redis, watched on the bus
 * itself: a burst of presence changes crosses Redis coalesced into a few messages, a relay never
 * publishes again what it heard from another relay (nor a stock client's echo of it), and the
 * presence of a SIGKILLed relay's clients expires on the others while live clients' renewals keep
 * theirs.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RedisBus } from '@weft/bus-redis'
import type { WeftClient } from '@weft/client'
import type { BusMessage } from '@weft/server'
import {
  startPostgres,
  startRedis,
  type RelayProcess,
  type TestPostgres,
  type TestRedis,
} from '@weft/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { clientOf, spawnClusterRelay, within } from './cluster-support.js'

const DOC = 'aware'

let postgres: TestPostgres
let redis: TestRedis
let dataDir: string
let relays: RelayProcess[] = []
let observer: RedisBus
const clients: WeftClient[] = []
const providers: WebsocketProvider[] = []
/** Every awareness message on the document's channel: its origin and the client ids it holds. */
const heard: Array<{ origin: string; ids: number[] }> = []

beforeAll(async () => {
  ;[postgres, redis] = await Promise.all([startPostgres(), startRedis()])
  dataDir = await mkdtemp(join(tmpdir(), 'weft-cluster-awareness-'))
  const databaseUrl = await postgres.createDatabase()
  relays = await Promise.all(
    [0, 1, 2].map(() => spawnClusterRelay(dataDir, databaseUrl, redis.url)),
  )
  observer = new RedisBus({ url: redis.url })
  observer.listen({
    message: (message: BusMessage) => {
      if (message.kind === 'awareness' && message.doc === DOC)
        heard.push({ origin: message.origin, ids: awarenessClientIds(message.update) })
    },
    state: () => undefined,
  })
  await observer.whenUp()
  await observer.subscribe(DOC)
}, 300_000)

afterAll(async () => {
  for (const provider of providers.splice(0)) provider.destroy()
  await Promise.all(clients.splice(0).map((client) => client.close()))
  await observer?.close()
  await Promise.all(
    relays
      .filter((relay) => relay.child.exitCode === null && relay.child.signalCode === null)
      .map((relay) => relay.stop('SIGKILL')),
  )
  await Promise.all([postgres?.stop(), redis?.stop()])
  await rm(dataDir, { recursive: true, force: true })
})

/** The client ids of a y-protocols awareness update (count, then id, clock, state per entry). */
const awarenessClientIds = (update: Uint8Array): number[] => {
  let at = 0
  const varUint = (): number => {
    let value = 0
    for (let shift = 0; ; shift += 7) {
      const byte = update[at++]!
      value += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) return value
    }
  }
  const ids: number[] = []
  for (let left = varUint(); left > 0; left--) {
    ids.push(varUint())
    varUint() // clock
    at += varUint() // the state's JSON
  }
  return ids
}

const stockOn = (relay: RelayProcess): WebsocketProvider => {
  const provider = new WebsocketProvider(relay.url, DOC, new Y.Doc(), {
    WebSocketPolyfill: WebSocket as never,
    disableBc: true,
  })
  providers.push(provider)
  return provider
}

type Presence = WebsocketProvider['awareness']

/** Resolves once `test` holds for the states of `awareness` (bounded). */
const untilStates = (
  awareness: Presence,
  test: (states: Map<number, Record<string, unknown>>) => boolean,
  what: string,
  ms = 10_000,
): Promise<void> =>
  within(
    new Promise<void>((resolve) => {
      const check = (): void => {
        if (!test(awareness.getStates() as Map<number, Record<string, unknown>>)) return
        awareness.off('change', check)
        resolve()
      }
      awareness.on('change', check)
      check()
    }),
    ms,
    what,
  )

/** Opens `DOC` on `relay` with a new client and returns its awareness once synced. */
const freshAwareness = async (relay: RelayProcess): Promise<Presence> => {
  const client = clientOf(relay)
  clients.push(client)
  const handle = client.open(DOC)
  await handle.whenSynced()
  return handle.awareness as Presence
}

describe('presence across three relays, as the bus carries it', () => {
  it('coalesced, never published again by a relay that heard it, and expiring with a dead relay', async () => {
    const [a, b, c] = relays as [RelayProcess, RelayProcess, RelayProcess]
    // A stock provider sends every change as its own message, and echoes every state it hears.
    const onA = stockOn(a)
    const onB = stockOn(b)
    const watcher = await freshAwareness(c)
    await Promise.all(
      [onA, onB].map((provider) =>
        within(
          new Promise<void>((resolve) => {
            if (provider.synced) resolve()
            else provider.on('sync', (synced: boolean) => synced && resolve())
          }),
          10_000,
          'stock sync',
        ),
      ),
    )
    const idA = onA.awareness.clientID
    const idB = onB.awareness.clientID
    onB.awareness.setLocalStateField('user', 'grace')
    await untilStates(onA.awareness, (states) => states.has(idB), 'B on A')

    // A burst of 50 changes on A: C's client sees the last one, the bus carried a few messages.
    const before = heard.filter(({ ids }) => ids.includes(idA)).length
    for (let n = 0; n < 50; n++) onA.awareness.setLocalStateField('n', n)
    await untilStates(watcher, (states) => states.get(idA)?.['n'] === 49, 'the burst on C')
    await untilStates(onB.awareness, (states) => states.get(idA)?.['n'] === 49, 'the burst on B')
    const burst = heard.filter(({ ids }) => ids.includes(idA)).length - before
    expect(burst).toBeGreaterThan(0)
    expect(burst).toBeLessThanOrEqual(5)

    // Each client's presence went on the bus from its own relay only: B's stock provider echoed
    // A's states back to B, which stopped there, and A never republished B's.
    const origins = (id: number) =>
      new Set(heard.filter(({ ids }) => ids.includes(id)).map(({ origin }) => origin))
    expect([...origins(idA)]).toHaveLength(1)
    expect([...origins(idB)]).toHaveLength(1)
    expect(origins(idA)).not.toEqual(origins(idB))
    for (const id of new Set(heard.flatMap(({ ids }) => ids)))
      expect([...origins(id)], `client ${id}`).toHaveLength(1)

    // A dies without withdrawing its client's presence. Right away C still holds it for a new
    // client; 30 s without a renewal, C forgets it, while B's provider, renewing, stays.
    await a.stop('SIGKILL')
    const soon = await freshAwareness(c)
    await untilStates(soon, (states) => states.has(idA) && states.has(idB), 'both, at once')
    await new Promise((resolve) => setTimeout(resolve, 34_000))
    const later = await freshAwareness(c)
    await untilStates(later, (states) => states.has(idB), "B's renewed presence")
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(later.getStates().has(idA)).toBe(false)
  }, 90_000)
})
