/** Deletion over the bus: a document an operator deletes on one relay is closed on every relay. */
import {
  RawSocket,
  startRedis,
  testClient,
  until,
  untilSameState,
  type TestRedis,
} from '@weft/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRelayPair } from './support.js'

let redis: TestRedis

beforeAll(async () => {
  redis = await startRedis()
}, 300_000)

afterAll(async () => {
  await redis?.stop()
})

describe('deleting a document on relays sharing a bus', () => {
  it("closes it for the other relay's clients with DOC_DELETED, and it loads empty there afterwards", async () => {
    const { a, b, store } = await startRelayPair(redis.url)
    const writer = testClient(a).open('notes')
    const reader = testClient(b).open('notes')
    await Promise.all([writer.whenSynced(), reader.whenSynced()])
    writer.doc.getText('t').insert(0, 'written on A')
    await writer.whenSaved()
    await untilSameState([writer.doc, reader.doc])
    const stock = await RawSocket.open(`${b.url}/notes`, false)

    const started = Date.now()
    await a.relay.admin.delete('notes', 'ops')
    await until(reader, 'status', () => reader.status.state === 'error')
    expect(reader.status).toMatchObject({ state: 'error', code: 'DOC_DELETED' })
    expect((await stock.closed).code).toBe(4412)
    expect(Date.now() - started).toBeLessThan(2_000)

    // B unloaded its copy: a new client there gets the empty document, and its first edit is
    // the new document's first record.
    const fresh = testClient(b).open('notes')
    await fresh.whenSynced()
    expect(fresh.doc.getText('t').toString()).toBe('')
    fresh.doc.getText('t').insert(0, 'new')
    await fresh.whenSaved()
    const stored = await store.load('notes')
    expect(stored.headSeq).toBe(1)
    expect((await b.relay.admin.export('notes')).length).toBeGreaterThan(0)
    expect((await a.relay.admin.list()).map((doc) => doc.name)).toEqual(['notes'])
  })
})
