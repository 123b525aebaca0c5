/**
 * PostgresStore's exclusive locks against a real PostgreSQL: the fencing token refuses a stale
 * holder's writes, a lock is freed when its connection ends, and one of many racing takers wins.
 */
import type { HeldLock } from '@weft/server/store'
import { startPostgres, type TestPostgres } from '@weft/testkit'
import pg from 'pg'
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

/** `count` stores on one fresh schema (relays sharing a database), closed after the test. */
const openStores = async (count: number): Promise<PostgresStore[]> => {
  const schema = freshSchema()
  const stores: PostgresStore[] = []
  for (let index = 0; index < count; index += 1)
    stores.push(await PostgresStore.open({ url: server.url, schema }))
  onTestFinished(async () => {
    for (const store of stores) await store.close()
  })
  return stores
}

/** Releases `lock` after the test, whether or not its store closed first. */
const releasedAfter = (lock: HeldLock | null): HeldLock => {
  if (lock === null) throw new Error('the lock was not taken')
  onTestFinished(() => lock.release())
  return lock
}

/** Ends the server sessions holding an exclusive lock (as a lost connection would); how many. */
const terminateLockHolders = async (): Promise<number> => {
  const client = new pg.Client({ connectionString: server.url })
  await client.connect()
  try {
    // Exclusive locks are two-key advisory locks (objsubid 2) in their own namespace (classid).
    const { rows } = await client.query<{ ended: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ended FROM pg_locks
       WHERE locktype = 'advisory' AND objsubid = 2 AND granted AND classid = $1::oid`,
      [0x77656675],
    )
    return rows.filter((row) => row.ended).length
  } finally {
    await client.end()
  }
}

/** Resolves with how long `promise` took to settle; rejects after `timeoutMs`. */
const settlesWithin = async (promise: Promise<unknown>, timeoutMs: number): Promise<number> => {
  const started = Date.now()
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not settled within ${timeoutMs} ms`)), timeoutMs)
    }),
  ]).finally(() => clearTimeout(timer))
  return Date.now() - started
}

describe('PostgresStore exclusive locks', () => {
  it("refuses a stale holder's fenced write once another holder took the lock", async () => {
    const [a, b] = (await openStores(2)) as [PostgresStore, PostgresStore]
    const first = releasedAfter(await a.tryLock('hooks/orders'))
    expect(await b.tryLock('hooks/orders')).toBeNull()
    expect(await first.writeState([{ key: 'cursor/orders', value: 10 }])).toBe(true)

    // A's lock connection ends; A has not looked at `lost` yet and still believes it holds it.
    expect(await terminateLockHolders()).toBe(1)
    const second = releasedAfter(await b.tryLock('hooks/orders'))
    expect(second.token).toBeGreaterThan(first.token)
    expect(await second.writeState([{ key: 'cursor/orders', value: 20 }])).toBe(true)

    expect(await first.writeState([{ key: 'cursor/orders', value: 11 }])).toBe(false)
    expect(await a.readState('cursor/')).toEqual([{ key: 'cursor/orders', value: 20 }])
    // Still refused after the newer holder gave the lock up: only a new token writes.
    await second.release()
    expect(await first.writeState([{ key: 'cursor/orders', value: 12 }])).toBe(false)
    expect(await b.readState('cursor/')).toEqual([{ key: 'cursor/orders', value: 20 }])
  })

  it('is freed when its connection ends, and another store takes it at once', async () => {
    const [a, b] = (await openStores(2)) as [PostgresStore, PostgresStore]
    const held = releasedAfter(await a.tryLock('compaction'))
    expect(await b.tryLock('compaction')).toBeNull()

    const endedAt = Date.now()
    expect(await terminateLockHolders()).toBe(1)
    await settlesWithin(held.lost, 5_000)
    const noticedMs = Date.now() - endedAt
    const taken = releasedAfter(await b.tryLock('compaction'))
    expect(taken.token).toBe(held.token + 1)
    expect(await a.tryLock('compaction')).toBeNull()

    // Released by its holder: free at once too.
    await taken.release()
    await settlesWithin(taken.lost, 1_000)
    const again = releasedAfter(await a.tryLock('compaction'))
    expect(again.token).toBe(taken.token + 1)
    console.log(`exclusive lock: its holder noticed the loss within ${noticedMs} ms`)
  })

  it('lets exactly one of many concurrent tryLock calls win, round after round', async () => {
    const stores = await openStores(4)
    let lastToken = 0
    for (let round = 0; round < 5; round += 1) {
      // Two calls per store: each takes a connection of its own, so they race as relays would.
      const results = await Promise.all(
        [...stores, ...stores].map((store) => store.tryLock('webhook/all')),
      )
      const winners = results.filter((lock): lock is HeldLock => lock !== null)
      expect(winners).toHaveLength(1)
      const winner = winners[0] as HeldLock
      expect(winner.token).toBe(lastToken + 1)
      lastToken = winner.token
      await winner.release()
    }
  })
})
