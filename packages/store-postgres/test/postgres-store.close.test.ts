/**
 * PostgresStore.close against a real PostgreSQL: it releases the exclusive locks the store still
 * holds (their own connections end), so another relay takes them at once, not when the closed
 * store's process exits.
 */
import { startPostgres, type TestPostgres } from '@weft/testkit'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { PostgresStore } from '../src/index.js'
import { freshSchema } from './postgres-fixture.js'

let server: TestPostgres
beforeAll(async () => {
  server = await startPostgres()
}, 60_000)
afterAll(async () => {
  await server.stop()
})

/** Two stores on one fresh schema (two relays sharing a database), closed after the test. */
const twoStores = async (): Promise<[PostgresStore, PostgresStore]> => {
  const schema = freshSchema()
  const a = await PostgresStore.open({ url: server.url, schema })
  const b = await PostgresStore.open({ url: server.url, schema })
  onTestFinished(async () => {
    await a.close()
    await b.close()
  })
  return [a, b]
}

describe('PostgresStore.close', () => {
  it('releases the locks the store holds: another store takes them at once', async () => {
    const [a, b] = await twoStores()
    const compaction = await a.tryLock('compaction')
    const webhooks = await a.tryLock('webhooks/orders')
    const released = await a.tryLock('released-before')
    expect(compaction).not.toBeNull()
    expect(webhooks).not.toBeNull()
    await released!.release()
    expect(await b.tryLock('compaction')).toBeNull()

    await a.close()
    const taken = await b.tryLock('compaction')
    expect(taken?.token).toBe(compaction!.token + 1)
    expect(await b.tryLock('webhooks/orders')).not.toBeNull()
    expect(await b.tryLock('released-before')).not.toBeNull()
    // Their holder was told it lost them.
    await Promise.all([compaction!.lost, webhooks!.lost])
    // The closed store's handle writes nothing now.
    await expect(webhooks!.writeState([{ key: 'cursor', value: 1 }])).rejects.toMatchObject({
      code: 'CLOSED',
    })
  })

  it('releases a lock being taken while it closes, and that call rejects with CLOSED', async () => {
    const [a, b] = await twoStores()
    const taking = a.tryLock('compaction')
    await a.close()
    await expect(taking).rejects.toMatchObject({ code: 'CLOSED' })
    expect(await b.tryLock('compaction')).not.toBeNull()
    await expect(a.tryLock('compaction')).rejects.toMatchObject({ code: 'CLOSED' })
  })
})
