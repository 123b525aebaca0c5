/**
 * Three relay processes on one PostgreSQL and one Redis while PostgreSQL goes away and comes
 * back under continuous writes: nothing is acknowledged while it is down, every relay says it
 * is not ready, and nothing acknowledged is lost.
 */
import { mkdtemp, rm } from 'node:fs/promises'
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
import {
  clientOf,
  readyz,
  spawnClusterRelay,
  storedKeys,
  within,
  writeUntil,
} from './cluster-support.js'

let postgres: TestPostgres
let redis: TestRedis
let dataDir: string
let databaseUrl: string
let relays: RelayProcess[] = []
const clients: WeftClient[] = []

beforeAll(async () => {
  ;[postgres, redis] = await Promise.all([startPostgres(), startRedis()])
  dataDir = await mkdtemp(join(tmpdir(), 'weft-cluster-pg-'))
  databaseUrl = await postgres.createDatabase()
  relays = await Promise.all(
    [0, 1, 2].map(() => spawnClusterRelay(dataDir, databaseUrl, redis.url)),
  )
}, 300_000)

afterAll(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
  await Promise.all(relays.map((relay) => relay.stop('SIGKILL')))
  await Promise.all([postgres?.stop(), redis?.stop()])
  await rm(dataDir, { recursive: true, force: true })
})

/** Resolves once every relay's `/readyz` answers `status` (checked every 50 ms, bounded). */
const untilEveryReadyz = (status: number): Promise<void> =>
  within(
    (async () => {
      for (;;) {
        const statuses = await Promise.all(relays.map(readyz))
        if (statuses.every((answered) => answered === status)) return
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })(),
    15_000,
    `every /readyz ${status}`,
  )

describe('three relays while PostgreSQL restarts', () => {
  it('stop acknowledging, say so on /readyz, and recover without losing an acknowledged edit', async () => {
    await untilEveryReadyz(200)
    const writers = relays.map((relay) => {
      const client = clientOf(relay)
      clients.push(client)
      return client.open('restart')
    })
    await Promise.all(writers.map((writer) => writer.whenSynced()))
    const acked = new Set<string>()
    let stopping = false
    const writing = writers.map((writer, index) =>
      writeUntil(writer, `w${index}`, acked, () => stopping),
    )
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(acked.size).toBeGreaterThan(0)

    await postgres.halt()
    const whileDown = acked.size
    await untilEveryReadyz(503)
    await new Promise((resolve) => setTimeout(resolve, 500))
    // Nothing can be committed, so nothing is acknowledged: the edits wait on their clients.
    expect(acked.size).toBe(whileDown)

    await postgres.start()
    await untilEveryReadyz(200)
    await within(
      (async () => {
        while (acked.size < whileDown + 9) await new Promise((resolve) => setTimeout(resolve, 50))
      })(),
      15_000,
      'acknowledgements after the restart',
    )
    stopping = true
    await Promise.all(writing)
    const stored = await storedKeys(databaseUrl, 'restart')
    for (const key of acked) expect(stored.has(key), key).toBe(true)
    await within(untilSameState(writers.map((writer) => writer.doc)), 10_000, 'convergence')
    for (const writer of writers)
      for (const key of acked) expect(writer.doc.getMap('m').has(key), key).toBe(true)
  }, 50_000)
})
