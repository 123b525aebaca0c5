/**
 * PostgresStore.reencrypt against a real PostgreSQL: plaintext values and values under an old
 * key end up under the newest one and read back intact with it alone; appends, compactions and
 * state writes of another store running meanwhile are all kept; a stopped run continues.
 */
import { randomBytes } from 'node:crypto'
import {
  resolveKeyring,
  sealedKeyId,
  sealValue,
  type AppendEntry,
  type EncryptionKey,
  type FeedChange,
} from '@weft/server/store'
import { startPostgres, type TestPostgres } from '@weft/testkit'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import * as Y from 'yjs'
import { snapshotAddress, stateAddress } from '../src/addresses.js'
import { PostgresStore, type PostgresStoreOptions } from '../src/index.js'
import { freshSchema } from './postgres-fixture.js'

const keyA: EncryptionKey = { id: '2026-01', key: randomBytes(32) }
const keyB: EncryptionKey = { id: '2026-02', key: randomBytes(32) }
const HISTORY_MS = 60_000

let server: TestPostgres
let raw: pg.Pool
beforeAll(async () => {
  server = await startPostgres()
  raw = new pg.Pool({ connectionString: server.url, max: 2 })
}, 60_000)
afterAll(async () => {
  await raw.end()
  await server.stop()
})

/** Opens a store on `schema`, closed after the test. */
const open = async (
  schema: string,
  options: Omit<PostgresStoreOptions, 'url' | 'schema'> = {},
): Promise<PostgresStore> => {
  const store = await PostgresStore.open({
    url: server.url,
    schema,
    historyMs: HISTORY_MS,
    ...options,
  })
  onTestFinished(() => store.close())
  return store
}

const keys = (...list: EncryptionKey[]) => ({ encryption: { keys: list } })

/** Key id of every stored value of `schema` (null: plaintext), by kind. */
type KeyIds = Record<'snapshot' | 'histBase' | 'record' | 'feed' | 'state', Array<string | null>>

const keyIds = async (schema: string): Promise<KeyIds> => {
  const column = async (sql: string): Promise<Array<string | null>> =>
    (await raw.query<{ value: Buffer }>(sql)).rows.map(({ value }) => sealedKeyId(value))
  const s = `"${schema}"`
  return {
    snapshot: await column(`SELECT snapshot AS value FROM ${s}.docs WHERE snapshot IS NOT NULL`),
    histBase: await column(`SELECT hist_base AS value FROM ${s}.docs WHERE hist_base IS NOT NULL`),
    record: await column(`SELECT record AS value FROM ${s}.records`),
    feed: await column(`SELECT entry AS value FROM ${s}.feed`),
    state: await column(`SELECT value FROM ${s}.state`),
  }
}

/** Every key id of `schema`'s values, whatever their kind, as a set. */
const allKeyIds = async (schema: string): Promise<Set<string | null>> =>
  new Set(Object.values(await keyIds(schema)).flat())

/** Resolves once a session of the server waits for a row lock (within 10 s). */
const someoneWaitsForARow = async (): Promise<void> => {
  const deadline = Date.now() + 10_000
  // PostgreSQL announces no lock wait: its activity view is read until one shows.
  for (;;) {
    const { rows } = await raw.query<{ waiting: string }>(
      `SELECT count(*) AS waiting FROM pg_stat_activity WHERE wait_event_type = 'Lock'`,
    )
    if (Number(rows[0]?.waiting) > 0) return
    if (Date.now() > deadline) throw new Error('no session waited for a row lock within 10 s')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** A Yjs update setting `m.<key>` to `value`, from its own client. */
const setUpdate = (clientID: number, key: string, value: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  doc.getMap('m').set(key, value)
  return Y.encodeStateAsUpdate(doc)
}

const entry = (update: Uint8Array, receivedAtMs = Date.now()): AppendEntry => ({
  update,
  meta: { author: 'writer', correlationId: 'c', receivedAtMs },
})

const change = (): FeedChange => ({
  kind: 'update',
  author: 'writer',
  correlationId: 'c',
  receivedAtMs: Date.now(),
  bytes: 1,
  events: [],
})

/** The map `m` of the document a stored snapshot and log make. */
const mapOf = (stored: { snapshot: Uint8Array | null; updates: readonly Uint8Array[] }) => {
  const doc = new Y.Doc()
  if (stored.snapshot !== null) Y.applyUpdate(doc, stored.snapshot)
  for (const update of stored.updates) Y.applyUpdate(doc, update)
  return doc.getMap('m').toJSON()
}

/**
 * Writes document `name`: `count` appends (the first half received long ago, so compaction
 * folds them into the history base), a compaction through all but the last, one more append.
 */
const writeDoc = async (store: PostgresStore, name: string, count: number): Promise<void> => {
  const doc = new Y.Doc()
  const old = Date.now() - 10 * HISTORY_MS
  for (let index = 0; index < count; index += 1) {
    const update = setUpdate(index + 1, `k${index}`, `${name}-${index}`)
    Y.applyUpdate(doc, update)
    const receivedAtMs = index < count / 2 ? old : Date.now()
    await store.append(name, [entry(update, receivedAtMs)], [change()])
  }
  await store.compact(name, Y.encodeStateAsUpdate(doc), count)
  await store.append(name, [entry(setUpdate(count + 1, 'last', name))], [change()])
}

const hex = (bytes: Uint8Array | null): string | null =>
  bytes === null ? null : Buffer.from(bytes).toString('hex')

/** What a store reads: every document, its history, the feed and the state records. */
const readAll = async (store: PostgresStore, names: readonly string[]) => ({
  docs: await Promise.all(names.map(async (name) => mapOf(await store.load(name)))),
  history: await Promise.all(
    names.map(async (name) => {
      const { base, records } = await store.history(name)
      return {
        base: hex(base),
        records: records.map(({ seq, entries }) => ({
          seq,
          entries: entries.map(({ update, meta }) => ({ update: hex(update), meta })),
        })),
      }
    }),
  ),
  feed: await store.readFeed(0, 10_000),
  state: await store.readState(''),
})

// Concurrency cases run hundreds of transactions on two cores shared with other test files.
describe('PostgresStore.reencrypt', { timeout: 30_000 }, () => {
  it('moves plaintext and old-key values under the newest key; that key alone reads them all', async () => {
    const schema = freshSchema()
    const plain = await open(schema)
    await writeDoc(plain, 'plain/one', 6)
    await plain.writeState([{ key: 'cursor/plain', value: { after: 3 } }])
    await plain.close()
    const underA = await open(schema, keys(keyA))
    await writeDoc(underA, 'sealed/two', 8)
    await writeDoc(underA, 'sealed/three', 2)
    await underA.writeState([
      { key: 'cursor/sealed', value: { after: 9 } },
      { key: 'dead/1', value: ['a', 1] },
    ])
    await underA.close()
    const before = await keyIds(schema)
    expect(new Set(Object.values(before).flat())).toEqual(new Set([null, keyA.id]))
    expect(before.histBase.length).toBe(3)
    expect(before.feed.length).toBeGreaterThan(0)

    const rotating = await open(schema, keys(keyA, keyB))
    const names = ['plain/one', 'sealed/three', 'sealed/two']
    const expected = await readAll(rotating, names)
    const total = Object.values(before).flat().length
    // Three values a batch: documents' snapshots, history bases and records are split apart.
    const result = await rotating.reencrypt({ maxBatchValues: 3 })
    expect(result).toMatchObject({ scanned: total, rewritten: total, complete: true })
    // Full batches but the last of each table's walk.
    expect(result.batches).toBeGreaterThanOrEqual(Math.ceil(total / 3))
    expect(result.batches).toBeLessThanOrEqual(Math.ceil(total / 3) + 2)
    expect(await allKeyIds(schema)).toEqual(new Set([keyB.id]))
    expect(await rotating.reencrypt()).toMatchObject({ scanned: total, rewritten: 0 })
    await rotating.close()

    const onlyB = await open(schema, keys(keyB))
    expect(await readAll(onlyB, names)).toEqual(expected)
    expect(expected.docs[2]).toMatchObject({ k0: 'sealed/two-0', k7: 'sealed/two-7' })
    expect(expected.history[2]?.base).not.toBeNull()
    expect(expected.state.map((record) => record.key)).toEqual([
      'cursor/plain',
      'cursor/sealed',
      'dead/1',
    ])
  })

  it('keeps every append, compaction and state write of a relay running meanwhile', async () => {
    const schema = freshSchema()
    const seeding = await open(schema, keys(keyA))
    const names = Array.from({ length: 6 }, (_, index) => `doc-${index}`)
    for (const name of names) await writeDoc(seeding, name, 20)
    await seeding.close()

    const relay = await open(schema, keys(keyA, keyB))
    const rotating = await open(schema, keys(keyA, keyB))
    const mirrors = new Map<string, Y.Doc>()
    for (const name of names) {
      const mirror = new Y.Doc()
      const stored = await relay.load(name)
      if (stored.snapshot !== null) Y.applyUpdate(mirror, stored.snapshot)
      for (const update of stored.updates) Y.applyUpdate(mirror, update)
      mirrors.set(name, mirror)
    }
    let done = false
    let appended = 0
    const reencrypting = rotating.reencrypt({ maxBatchValues: 7 }).finally(() => {
      done = true
    })
    // Each document's writer: appends, a compaction every fifth, state writes of several keys
    // in varying order, until the re-encryption is over (at least 10 rounds, at most 100).
    const writers = names.map(async (name, writer) => {
      const mirror = mirrors.get(name)!
      for (let round = 0; (!done || round < 10) && round < 100; round += 1) {
        const update = setUpdate(1000 + writer, `w${round}`, `${name}-w${round}`)
        Y.applyUpdate(mirror, update)
        const seq = await relay.append(name, [entry(update)], [change()])
        appended += 1
        if (round % 5 === 4) await relay.compact(name, Y.encodeStateAsUpdate(mirror), seq)
        const stateKeys = [`state/${writer}`, `state/${(writer + round) % names.length}`]
        await relay.writeState(
          (round % 2 === 0 ? stateKeys : stateKeys.reverse()).map((key) => ({ key, value: round })),
        )
      }
    })
    const [result] = await Promise.all([reencrypting, ...writers])
    expect(result.complete).toBe(true)
    expect(result.batches).toBeGreaterThan(10)
    expect(appended).toBeGreaterThanOrEqual(60)
    await relay.close()
    await rotating.close()

    // The relay sealed its writes under B; the old values were moved there.
    expect(await allKeyIds(schema)).toEqual(new Set([keyB.id]))
    const onlyB = await open(schema, keys(keyB))
    for (const name of names) {
      expect(mapOf(await onlyB.load(name))).toEqual(mirrors.get(name)!.getMap('m').toJSON())
    }
    expect((await onlyB.readState('state/')).length).toBe(names.length)
  })

  it.each([
    ['a document snapshot', 'docs'],
    ['a state record', 'state'],
  ] as const)(
    'keeps %s written by a transaction the batch waited for, never the older value',
    async (_label, table) => {
      const schema = freshSchema()
      const seeding = await open(schema, keys(keyA))
      if (table === 'docs') await writeDoc(seeding, 'doc', 4)
      else await seeding.writeState([{ key: 'cursor', value: 'old' }])
      await seeding.close()
      // Another relay's transaction holds the row and writes a newer value (under B).
      const keyring = resolveKeyring({ keys: [keyA, keyB] })
      const newer = new Y.Doc()
      newer.getMap('m').set('fresh', 'newer')
      const [sql, value] =
        table === 'docs'
          ? [
              `UPDATE "${schema}".docs SET snapshot = $1 WHERE name = 'doc'`,
              sealValue(keyring, snapshotAddress('doc'), Y.encodeStateAsUpdate(newer)),
            ]
          : [
              `UPDATE "${schema}".state SET value = $1 WHERE key = 'cursor'`,
              sealValue(keyring, stateAddress('cursor'), new TextEncoder().encode('"newer"')),
            ]
      const writer = await raw.connect()
      try {
        await writer.query('BEGIN')
        await writer.query(sql, [value])
        const rotating = await open(schema, keys(keyA, keyB))
        const reencrypting = rotating.reencrypt()
        await someoneWaitsForARow()
        await writer.query('COMMIT')
        expect(await reencrypting).toMatchObject({ complete: true })
      } finally {
        writer.release()
      }
      const onlyB = await open(schema, keys(keyB))
      if (table === 'docs') expect(mapOf(await onlyB.load('doc'))).toMatchObject({ fresh: 'newer' })
      else expect(await onlyB.readState('cursor')).toEqual([{ key: 'cursor', value: 'newer' }])
    },
  )

  it('never deadlocks with a transaction that takes rows in another order', async () => {
    const schema = freshSchema()
    const seeding = await open(schema, keys(keyA))
    await seeding.writeState([
      { key: 'a', value: 'old' },
      { key: 'b', value: 'old' },
    ])
    await seeding.close()
    const keyring = resolveKeyring({ keys: [keyA, keyB] })
    const write = (key: string) =>
      writer.query(`UPDATE "${schema}".state SET value = $1 WHERE key = $2`, [
        sealValue(keyring, stateAddress(key), new TextEncoder().encode('"newer"')),
        key,
      ])
    const writer = await raw.connect()
    try {
      // Another relay's transaction holds "b", then wants "a": a batch holding "a" while it
      // waited for "b" would deadlock with it.
      await writer.query('BEGIN')
      await write('b')
      const rotating = await open(schema, keys(keyA, keyB))
      const reencrypting = rotating.reencrypt()
      await someoneWaitsForARow()
      await write('a')
      await writer.query('COMMIT')
      expect(await reencrypting).toMatchObject({ complete: true })
    } finally {
      writer.release()
    }
    const onlyB = await open(schema, keys(keyB))
    expect(await onlyB.readState('')).toEqual([
      { key: 'a', value: 'newer' },
      { key: 'b', value: 'newer' },
    ])
  })

  it('stops between batches once its signal aborts; running it again finishes', async () => {
    const schema = freshSchema()
    const seeding = await open(schema, keys(keyA))
    for (let index = 0; index < 4; index += 1) await writeDoc(seeding, `doc-${index}`, 6)
    await seeding.close()
    const total = Object.values(await keyIds(schema)).flat().length

    const rotating = await open(schema, keys(keyA, keyB))
    const stopping = new AbortController()
    const progress: number[] = []
    const stopped = await rotating.reencrypt({
      maxBatchValues: 6,
      signal: stopping.signal,
      onBatch: ({ batches, scanned }) => {
        progress.push(scanned)
        if (batches === 2) stopping.abort()
      },
    })
    expect(stopped).toEqual({ scanned: 12, rewritten: 12, batches: 2, complete: false })
    expect(progress).toEqual([6, 12])
    const ids = Object.values(await keyIds(schema)).flat()
    expect(ids.filter((id) => id === keyB.id)).toHaveLength(12)
    expect(ids.filter((id) => id === keyA.id)).toHaveLength(total - 12)

    const rerun = await rotating.reencrypt({ maxBatchValues: 6 })
    expect(rerun).toMatchObject({ scanned: total, rewritten: total - 12, complete: true })
    expect(await allKeyIds(schema)).toEqual(new Set([keyB.id]))
  })

  it('bounds a batch by bytes as well as by values', async () => {
    const schema = freshSchema()
    const store = await open(schema, keys(keyA))
    const big = new Uint8Array(10_000).fill(120)
    for (let seq = 0; seq < 5; seq += 1) await store.append('big', [entry(big)])
    // Every value is about 10 kB, so a batch closes after its second value.
    expect(await store.reencrypt({ maxBatchBytes: 20_000 })).toMatchObject({
      scanned: 5,
      rewritten: 0,
      batches: 3,
      complete: true,
    })
  })

  it('checks its options, and needs a store opened with keys', async () => {
    const schema = freshSchema()
    const store = await open(schema, keys(keyA))
    for (const options of [{ maxBatchValues: 0 }, { maxBatchBytes: 1.5 }]) {
      await expect(store.reencrypt(options)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining(Object.keys(options)[0]!),
      })
    }
    const plain = await open(freshSchema())
    await expect(plain.reencrypt()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await store.close()
    await expect(store.reencrypt()).rejects.toMatchObject({ code: 'CLOSED' })
  })
})
