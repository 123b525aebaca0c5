import {
  chooseSeed,
  mulberry32,
  startRedis,
  testClient,
  untilSameState,
  type TestRedis,
} from '@weft/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MemoryStore } from '@weft/server'
import * as Y from 'yjs'
import {
  bothCopiesOfEdit,
  droppingBus,
  recordBusMetrics,
  startRelayPair,
  stockProvider,
  untilAwareness,
  untilProviderSynced,
} from './support.js'

let redis: TestRedis

beforeAll(async () => {
  redis = await startRedis()
}, 300_000)

afterAll(async () => {
  await redis?.stop()
})

describe('two relays sharing a store and Redis', () => {
  it('a Weft client on one and a stock y-websocket provider on the other converge', async () => {
    const { a, b } = await startRelayPair(redis.url)
    const weft = testClient(a).open('notes')
    const stockDoc = new Y.Doc()
    const provider = stockProvider(b, 'notes', stockDoc)
    const other = testClient(b).open('notes')
    await Promise.all([weft.whenSynced(), other.whenSynced(), untilProviderSynced(provider)])

    weft.doc.getText('t').insert(0, 'from Weft on A. ')
    stockDoc.getText('t').insert(0, 'from y-websocket on B. ')
    other.doc.getText('t').insert(0, 'from Weft on B. ')
    await Promise.all([weft.whenSaved(), other.whenSaved()])
    await untilSameState([weft.doc, stockDoc, other.doc])
    const text = weft.doc.getText('t').toString()
    for (const part of ['from Weft on A. ', 'from y-websocket on B. ', 'from Weft on B. '])
      expect(text).toContain(part)
  })

  it('carries presence across relays and withdraws it when the session leaves', async () => {
    const { a, b } = await startRelayPair(redis.url)
    const stockDoc = new Y.Doc()
    const provider = stockProvider(a, 'room', stockDoc)
    const weft = testClient(b).open('room')
    await Promise.all([untilProviderSynced(provider), weft.whenSynced()])

    provider.awareness.setLocalStateField('user', 'ada')
    weft.awareness.setLocalStateField('user', 'grace')
    const stockId = stockDoc.clientID
    await untilAwareness(weft.awareness, (states) => states.has(stockId))
    await untilAwareness(provider.awareness, (states) => states.has(weft.awareness.clientID))

    provider.destroy()
    await untilAwareness(weft.awareness, (states) => !states.has(stockId))
  })

  it('repairs dropped messages from the store (gap catch-up)', async () => {
    const seed = chooseSeed('bus-redis dropped messages')
    const random = mulberry32(seed)
    let dropped = 0
    const { a, b } = await startRelayPair(redis.url, {
      wrapA: (bus) =>
        droppingBus(bus, (message) => {
          if (message.kind !== 'update' || random() >= 0.4) return false
          dropped += 1
          return true
        }),
    })
    const writer = testClient(a).open('gaps')
    const reader = testClient(b).open('gaps')
    await Promise.all([writer.whenSynced(), reader.whenSynced()])
    const text = writer.doc.getText('t')
    for (let edit = 0; edit < 40; edit += 1) {
      text.insert(text.length, `${edit};`)
      // One record per edit: each waits for its ack.
      await writer.whenSaved()
    }
    await untilSameState([writer.doc, reader.doc])
    expect(dropped).toBeGreaterThan(0)
    expect(reader.doc.getText('t').toString()).toBe(text.toString())
  })

  it('reports its messages, the gap a lost message opens and the catch-up that fills it', async () => {
    const [onA, onB] = [recordBusMetrics(), recordBusMetrics()]
    const { a, b } = await startRelayPair(redis.url, {
      // Edit 3 (record 3: one per acknowledged edit) never reaches B, ahead or as the record.
      wrapA: (bus) => droppingBus(bus, bothCopiesOfEdit(3)),
      metrics: { a: onA.metrics, b: onB.metrics },
    })
    const writer = testClient(a).open('counted')
    const reader = testClient(b).open('counted')
    await Promise.all([writer.whenSynced(), reader.whenSynced()])
    const text = writer.doc.getText('t')
    for (let edit = 1; edit <= 6; edit += 1) {
      text.insert(text.length, `${edit};`)
      await writer.whenSaved()
    }
    await untilSameState([writer.doc, reader.doc])
    await onB.until(() => onB.count('in', 'update') === 10 && onB.catchUps.length === 1)

    // A published six updates ahead and six records (the lost ones too: they left A), B heard
    // the ten others.
    expect([onA.count('out', 'update'), onB.count('in', 'update')]).toEqual([12, 10])
    expect([onB.count('out', 'update'), onA.count('in', 'update')]).toEqual([0, 0])
    // Record 4 opened one gap on B; it outlived the grace period and one read filled it.
    expect(onB.gaps).toBe(1)
    expect(onB.catchUps.map(({ reason, ok }) => [reason, ok])).toEqual([['gap', true]])
    expect([onA.gaps, onA.catchUps.length]).toEqual([0, 0])
    // Each relay asked the other for presence once, on loading the document.
    expect([onA.count('out', 'awareness-query'), onB.count('out', 'awareness-query')]).toEqual([
      1, 1,
    ])
  })

  it("reads a lost edit from the log's tail, not the whole document", async () => {
    const reads = { loads: 0, tails: [] as number[] }
    const { a, b } = await startRelayPair(redis.url, {
      wrapA: (bus) => droppingBus(bus, bothCopiesOfEdit(3)),
      storeB: (shared) => {
        // B's view of the store, counting whole loads and tail reads.
        const counting: Partial<MemoryStore> = {
          load: (name) => {
            reads.loads += 1
            return shared.load(name)
          },
          readLogAfter: (name, afterSeq) => {
            reads.tails.push(afterSeq)
            return shared.readLogAfter(name, afterSeq)
          },
        }
        return new Proxy(shared, {
          get: (target, key) => {
            const own = counting[key as keyof MemoryStore]
            const value = own ?? (Reflect.get(target, key, target) as unknown)
            return typeof value === 'function' && own === undefined ? value.bind(target) : value
          },
        })
      },
    })
    const writer = testClient(a).open('tail')
    const reader = testClient(b).open('tail')
    await Promise.all([writer.whenSynced(), reader.whenSynced()])
    const loadsAfterOpen = reads.loads
    const text = writer.doc.getText('t')
    for (let edit = 1; edit <= 5; edit += 1) {
      text.insert(text.length, `${edit};`)
      await writer.whenSaved()
    }
    await untilSameState([writer.doc, reader.doc])
    // B held records 1 and 2 in sequence when record 4 opened the gap: it read what followed.
    expect(reads.tails).toContain(2)
    expect(reads.loads).toBe(loadsAfterOpen)
  })

  it('a relay that unloads and reloads a document keeps receiving', async () => {
    const { a, b } = await startRelayPair(redis.url, { relay: { unloadGraceMs: 20 } })
    const writer = testClient(a).open('reload')
    await writer.whenSynced()
    const first = testClient(b).open('reload')
    await first.whenSynced()
    writer.doc.getText('t').insert(0, 'one ')
    await writer.whenSaved()
    await untilSameState([writer.doc, first.doc])
    await first.close()
    await untilRooms(b, 0)

    writer.doc.getText('t').insert(4, 'two ')
    await writer.whenSaved()
    const second = testClient(b).open('reload')
    await second.whenSynced()
    writer.doc.getText('t').insert(8, 'three')
    await writer.whenSaved()
    await untilSameState([writer.doc, second.doc])
    expect(second.doc.getText('t').toString()).toBe('one two three')
  })
})

/** Resolves once `relay` has `count` rooms loaded (checked on a timer: rooms unload quietly). */
const untilRooms = async (
  relay: { relay: { roomCount: number } },
  count: number,
): Promise<void> => {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (relay.relay.roomCount === count) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`still ${relay.relay.roomCount} rooms loaded, not ${count}`)
}
