import { startRedis, testClient, untilSameState, type TestRedis } from '@weft/testkit'
import type { DocHandle } from '@weft/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { recordBusMetrics, startRelayPair, storedDoc, untilBus } from './support.js'

let redis: TestRedis

beforeAll(async () => {
  redis = await startRedis()
}, 300_000)

afterAll(async () => {
  await redis?.stop()
})

/** Appends `count` labelled edits, each a record of its own (it waits for the previous ack). */
const edit = async (handle: DocHandle, label: string, count: number): Promise<string[]> => {
  const text = handle.doc.getText('t')
  const written: string[] = []
  for (let index = 0; index < count; index += 1) {
    const mark = `[${label}${index}]`
    text.insert(text.length, mark)
    written.push(mark)
    await handle.whenSaved()
  }
  return written
}

const outages = [
  {
    name: 'paused (SIGSTOP)',
    begin: () => Promise.resolve(redis.pause()),
    end: () => Promise.resolve(redis.resume()),
  },
  { name: 'killed and restarted', begin: () => redis.kill(), end: () => redis.restart() },
]

describe.each(outages)('Redis $name while both relays take writes', ({ begin, end }) => {
  it('converges afterwards, with every acknowledged edit on both relays and in the store', async () => {
    const [reportsA, reportsB] = [recordBusMetrics(), recordBusMetrics()]
    const { a, b, busA, busB, store } = await startRelayPair(redis.url, {
      metrics: { a: reportsA.metrics, b: reportsB.metrics },
    })
    const onA = testClient(a).open('outage')
    const onB = testClient(b).open('outage')
    await Promise.all([onA.whenSynced(), onB.whenSynced()])
    const acked: string[] = []
    const round = async (label: string, handles = [onA, onB]): Promise<void> => {
      const written = await Promise.all(
        handles.map((handle, i) => edit(handle, `${i}${label}`, 10)),
      )
      acked.push(...written.flat())
    }

    await round('before')
    await begin()
    await Promise.all([untilBus(busA, false), untilBus(busB, false)])
    const sentBefore = reportsA.count('out', 'update')
    // Only A writes: B sees no later record, so no gap tells it what it missed.
    await round('during', [onA])
    // Nothing went out while the bus was down.
    expect(reportsA.count('out', 'update')).toBe(sentBefore)
    await end()
    await Promise.all([untilBus(busA, true), untilBus(busB, true)])
    // No write since: only the catch-up on the bus's return can bring the edits made meanwhile.
    await untilSameState([onA.doc, onB.doc])
    for (const reports of [reportsA, reportsB]) {
      await reports.until(() => reports.catchUps.some(({ reason }) => reason === 'reconnect'))
    }
    await round('after')

    await untilSameState([onA.doc, onB.doc])
    const stored = await storedDoc(store, 'outage')
    for (const doc of [onA.doc, onB.doc, stored]) {
      const text = doc.getText('t').toString()
      expect(acked.filter((mark) => !text.includes(mark))).toEqual([])
    }
  })
})
