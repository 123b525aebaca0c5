/**
 * Three relay processes on one PostgreSQL and one Redis while PostgreSQL is restarted under
 * continuous writes: while it is down nothing is acknowledged, clients are told with a retryable
 * error and keep their edits, every relay's `/readyz` says PostgreSQL is down; once it is back
 * every relay recovers by itself and nothing acknowledged is lost.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DocHandle, WeftClient } from '@weft/client'
import { ERROR_CODES, type ErrorCode, type WeftError } from '@weft/protocol'
import {
  startPostgres,
  startRedis,
  untilSameState,
  type RelayProcess,
  type TestPostgres,
  type TestRedis,
} from '@weft/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
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

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves once every relay's `/readyz` answers `status` (checked every 50 ms, bounded). */
const untilEveryReadyz = (status: number): Promise<void> =>
  within(
    (async () => {
      for (;;) {
        const statuses = await Promise.all(relays.map(readyz))
        if (statuses.every((answered) => answered === status)) return
        await sleep(50)
      }
    })(),
    15_000,
    `every /readyz ${status}`,
  )

/** Every relay's `/readyz` body. */
const readyzBodies = (): Promise<string[]> =>
  Promise.all(
    relays.map(async (relay) => (await fetch(`http://127.0.0.1:${relay.port}/readyz`)).text()),
  )

/** Resolves once `done()` holds (checked every 50 ms, bounded). */
const untilTrue = (done: () => boolean, ms: number, what: string): Promise<void> =>
  within(
    (async () => {
      while (!done()) await sleep(50)
    })(),
    ms,
    what,
  )

/** One writer per relay on document `name`, synced; `errors[i]` keeps what writer i reports. */
const writersOn = async (name: string, errors: WeftError[][]): Promise<DocHandle[]> => {
  const writers = relays.map((relay, index) => {
    const client = clientOf(relay)
    clients.push(client)
    const handle = client.open(name)
    const own: WeftError[] = []
    errors[index] = own
    handle.on('error', (error) => own.push(error as WeftError))
    return handle
  })
  await Promise.all(writers.map((writer) => writer.whenSynced()))
  return writers
}

/** Every key of `acked` is in PostgreSQL and on every writer, and the writers converged. */
const expectNothingLost = async (
  name: string,
  writers: readonly DocHandle[],
  acked: ReadonlySet<string>,
): Promise<void> => {
  const stored = await storedKeys(databaseUrl, name)
  for (const key of acked) expect(stored.has(key), key).toBe(true)
  await within(untilSameState(writers.map((writer) => writer.doc)), 10_000, 'convergence')
  for (const writer of writers)
    for (const key of acked) expect(writer.doc.getMap('m').has(key), key).toBe(true)
}

describe('three relays while PostgreSQL restarts', () => {
  it('stop acknowledging (a retryable error, /readyz 503 naming PostgreSQL), and recover without losing an acknowledged edit', async () => {
    await untilEveryReadyz(200)
    expect(await readyzBodies()).toEqual(relays.map(() => 'ready\npostgres: up\nredis: up\n'))
    const errors: WeftError[][] = []
    const writers = await writersOn('restart', errors)
    const acked = new Set<string>()
    let stopping = false
    const writing = writers.map((writer, index) =>
      writeUntil(writer, `w${index}`, acked, () => stopping),
    )
    await sleep(500)
    expect(acked.size).toBeGreaterThan(0)

    // Stopped (pg_ctl stop: every connection dropped), then started again on the same data.
    await postgres.halt()
    const whileDown = acked.size
    try {
      await untilEveryReadyz(503)
      // The first check after a failed write may find PostgreSQL failing rather than down.
      for (const body of await readyzBodies())
        expect(body).toMatch(/^[^\n]+\npostgres: (down|failing)\nredis: up\n$/)
      // Each writer's pending edit failed to commit: its relay said so with STORAGE_FAILED (and
      // a reopen meanwhile with UNAVAILABLE), which the client retries by itself.
      await untilTrue(
        () => errors.every((own) => own.some((error) => error.code === 'STORAGE_FAILED')),
        15_000,
        'STORAGE_FAILED on every writer',
      )
      for (const error of errors.flat()) {
        expect(['STORAGE_FAILED', 'UNAVAILABLE']).toContain(error.code)
        expect(ERROR_CODES[error.code].retry).toBe('retry')
      }
      // The HTTP API refuses a write with a retryable 503 too.
      const update = new Y.Doc()
      update.getMap('m').set('over-http', 1)
      const posted = await fetch(`http://127.0.0.1:${relays[0]!.port}/v1/docs/restart/update`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: Y.encodeStateAsUpdate(update) as BodyInit,
      })
      expect(posted.status).toBe(503)
      const refusal = (await posted.json()) as { code: ErrorCode }
      expect(ERROR_CODES[refusal.code].retry).toBe('retry')
      await sleep(500)
      // Nothing can be committed, so nothing is acknowledged: the edits wait on their clients.
      expect(acked.size).toBe(whileDown)
      for (const writer of writers) {
        expect(writer.status.state).not.toBe('error')
        expect(writer.pending).toBeGreaterThan(0)
      }
    } finally {
      await postgres.start()
    }
    await untilEveryReadyz(200)
    expect(await readyzBodies()).toEqual(relays.map(() => 'ready\npostgres: up\nredis: up\n'))
    await untilTrue(() => acked.size >= whileDown + 9, 15_000, 'acknowledgements after the restart')
    stopping = true
    await Promise.all(writing)
    await expectNothingLost('restart', writers, acked)
  }, 60_000)

  it('a quick restart under writes (restart(): stop and start at once) loses nothing acknowledged', async () => {
    await untilEveryReadyz(200)
    const errors: WeftError[][] = []
    const writers = await writersOn('bounce', errors)
    const acked = new Set<string>()
    let stopping = false
    const writing = writers.map((writer, index) =>
      writeUntil(writer, `b${index}`, acked, () => stopping),
    )
    await sleep(500)
    for (let round = 0; round < 2; round++) {
      const before = acked.size
      await postgres.restart()
      await untilTrue(() => acked.size >= before + 9, 15_000, `writes after restart ${round + 1}`)
    }
    stopping = true
    await Promise.all(writing)
    // Whatever a relay told its clients meanwhile was retryable; nobody stopped.
    for (const error of errors.flat()) expect(ERROR_CODES[error.code].retry).toBe('retry')
    for (const writer of writers) expect(writer.status.state).not.toBe('error')
    await untilEveryReadyz(200)
    await expectNothingLost('bounce', writers, acked)
  }, 60_000)
})
