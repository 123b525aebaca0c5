/** A quiet document whose last bus message was lost: the other relay notices from the store's head. */
import { startRedis, testClient, untilSameState, type TestRedis } from '@weft/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bothCopiesOfEdit, droppingBus, recordBusMetrics, startRelayPair } from './support.js'

let redis: TestRedis

beforeAll(async () => {
  redis = await startRedis()
}, 300_000)

afterAll(async () => {
  await redis?.stop()
})

const EDITS = 12

describe('a document nobody writes to after a lost message', () => {
  it('converges on the other relay within 2 s, though nothing announces the last record again', async () => {
    const dropped: number[] = []
    const onB = recordBusMetrics()
    const lastEdit = bothCopiesOfEdit(EDITS)
    const { a, b } = await startRelayPair(redis.url, {
      metrics: { b: onB.metrics },
      // The burst's last edit (one record per acknowledged edit, so its sequence is EDITS) is
      // lost on the bus: its update sent ahead and its record.
      wrapA: (bus) =>
        droppingBus(bus, (message) => {
          if (!lastEdit(message) || message.kind !== 'update') return false
          dropped.push(message.seq)
          return true
        }),
    })
    const writer = testClient(a).open('quiet')
    const reader = testClient(b).open('quiet')
    await Promise.all([writer.whenSynced(), reader.whenSynced()])
    const text = writer.doc.getText('t')
    for (let edit = 1; edit <= EDITS; edit += 1) {
      text.insert(text.length, `${edit};`)
      await writer.whenSaved()
    }
    const lastSavedAt = Date.now()
    expect(dropped).toEqual([0, EDITS])
    await untilSameState([writer.doc, reader.doc], 5_000)
    const tookMs = Date.now() - lastSavedAt
    expect(reader.doc.getText('t').toString()).toBe(text.toString())
    expect(tookMs).toBeLessThan(2_000)
    // No gap showed: the check of the quiet document's head found the record, and one read it.
    await onB.until(() => onB.catchUps.length > 0)
    expect(onB.catchUps.map(({ reason, ok }) => [reason, ok])).toEqual([['quiet', true]])
    // Each other edit came twice: ahead of its record, and as the record.
    expect([onB.gaps, onB.count('in', 'update')]).toEqual([0, 2 * (EDITS - 1)])
    console.log(`quiet catch-up: converged ${tookMs} ms after the last acknowledgement`)
  })
})
