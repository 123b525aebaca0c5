/**
 * `relay migrate`: a LevelDB data directory copied into PostgreSQL and served from there by a
 * relay on `--store postgres`; a rerun after an interruption; a target holding other data.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClient } from '@weft/client'
import type { Logger } from '@weft/server'
import type { AppendEntry, FeedChange } from '@weft/server/store'
import { LevelStore, type EncryptionKey } from '@weft/store-level'
import { PostgresStore } from '@weft/store-postgres'
import { spawnRelay, startPostgres, type TestPostgres } from '@weft/testkit'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import {
  parseMigrateCommand,
  runMigrateCommand,
  type MigrateConfig,
} from '../src/migrate-command.js'
import { readEncryptionKeys } from '../src/relay-server.js'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const HISTORY_MS = 7 * 24 * 3_600_000

let server: TestPostgres
let dir: string
beforeAll(async () => {
  server = await startPostgres()
}, 60_000)
afterAll(async () => {
  await server.stop()
})
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-migrate-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A logger keeping every line, which may throw at a chosen message (an interruption). */
const recorder = (stopAt?: (message: string, count: number) => boolean) => {
  const lines: Array<{ message: string; context: Record<string, unknown> }> = []
  const record = (message: string, context?: Record<string, unknown>): void => {
    lines.push({ message, context: context ?? {} })
    if (stopAt?.(message, lines.length) === true) throw new Error('interrupted')
  }
  const logger: Logger = { debug: record, info: record, warn: record, error: record }
  return { logger, lines }
}

/** The text `t` of a document built from `edits` by one client, one update per edit. */
const textUpdates = (edits: string[], clientID: number): Uint8Array[] => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => updates.push(update))
  for (const edit of edits) doc.getText('t').insert(doc.getText('t').length, edit)
  return updates
}

const entry = (update: Uint8Array): AppendEntry => ({
  update,
  meta: { author: 'alice', correlationId: 'c', receivedAtMs: Date.now() },
})
const change = (kind: FeedChange['kind'] = 'update'): FeedChange => ({
  kind,
  author: 'alice',
  correlationId: 'c',
  receivedAtMs: Date.now(),
  bytes: 1,
  events: [],
})

/** Writes a relay data directory: compacted, long, deleted and plain documents, feed, state. */
const writeSource = async (path: string, keys: EncryptionKey[] | undefined) => {
  const store = await LevelStore.open({
    path,
    historyMs: HISTORY_MS,
    ...(keys === undefined ? {} : { encryption: { keys } }),
  })
  const compacted = textUpdates(['one ', 'two ', 'three ', 'four'], 1)
  for (const update of compacted) await store.append('compacted', [entry(update)], [change()])
  const snapshotDoc = new Y.Doc()
  for (const update of compacted.slice(0, 3)) Y.applyUpdate(snapshotDoc, update)
  await store.compact('compacted', Y.encodeStateAsUpdate(snapshotDoc), 3)
  const long = textUpdates(
    Array.from({ length: 1_200 }, (_, index) => `${index % 10}`),
    2,
  )
  await Promise.all(long.map((update) => store.append('long', [entry(update)], [change()])))
  await store.append('gone', [entry(textUpdates(['bye'], 3)[0]!)], [change()])
  await store.delete('gone', change('deleted'))
  await store.append('plain', [entry(textUpdates(['plain text'], 4)[0]!)], [change()])
  await store.writeState([{ key: 'webhook:cursor:orders', value: { after: 7 } }])
  const head = (await store.readFeed(0, 1)).head
  await store.close()
  return { head, texts: { compacted: 'one two three four', plain: 'plain text' } }
}

const config = (
  data: string,
  url: string,
  keysFile: string | undefined,
  force = false,
): MigrateConfig => ({
  data,
  'postgres-url': url,
  'encryption-keys-file': keysFile,
  'history-ms': HISTORY_MS,
  force,
})

describe.each([
  ['plain', false],
  ['encrypted', true],
])('relay migrate (%s)', (_label, encrypted) => {
  it('copies everything; a relay on PostgreSQL serves it and the feed goes on from its head', async () => {
    const keys = encrypted ? [{ id: 'k1', key: randomBytes(32) }] : undefined
    const keysFile = keys === undefined ? undefined : join(dir, 'keys.json')
    if (keysFile !== undefined && keys !== undefined) {
      await writeFile(
        keysFile,
        JSON.stringify({ keys: keys.map(({ id, key }) => ({ id, key: key.toString('base64') })) }),
      )
    }
    const data = join(dir, 'data')
    const source = await writeSource(data, keys)
    const url = await server.createDatabase()
    const io = { readKeys: readEncryptionKeys }

    // Interrupted after the first document: the rerun skips it and copies the rest.
    const first = recorder((message) => message === 'migrate: document copied')
    expect(await runMigrateCommand(config(data, url, keysFile), { ...io, ...first })).toBe(1)
    const second = recorder()
    expect(await runMigrateCommand(config(data, url, keysFile), { ...io, ...second })).toBe(0)
    const messages = second.lines.map((line) => line.message)
    expect(messages).toContain('migrate: document already copied')
    expect(messages).toContain('migrate: verified')
    expect(second.lines.at(-1)).toMatchObject({ message: 'migrated', context: { docs: 3 } })

    const opened = await PostgresStore.open({
      url,
      historyMs: HISTORY_MS,
      ...(keys === undefined ? {} : { encryption: { keys } }),
    })
    try {
      expect((await opened.readFeed(0, 1)).head).toBe(source.head)
      expect(await opened.readState('webhook:')).toEqual([
        { key: 'webhook:cursor:orders', value: { after: 7 } },
      ])
      expect((await opened.load('long')).headSeq).toBe(1_200)
      expect((await opened.load('gone')).headSeq).toBe(0)
      expect((await opened.history('compacted')).records.map((r) => r.seq)).toEqual([1, 2, 3, 4])
    } finally {
      await opened.close()
    }

    const relay = await spawnRelay(MAIN, join(dir, 'unused'), [
      '--store',
      'postgres',
      '--postgres-url',
      url,
      ...(keysFile === undefined ? [] : ['--encryption-keys-file', keysFile]),
    ])
    const client = createClient({ url: relay.url, WebSocket })
    try {
      const compacted = client.open('compacted')
      const plain = client.open('plain')
      await Promise.all([compacted.whenSynced(), plain.whenSynced()])
      expect(compacted.doc.getText('t').toString()).toBe(source.texts.compacted)
      expect(plain.doc.getText('t').toString()).toBe(source.texts.plain)
      compacted.doc.getText('t').insert(0, '> ')
      await compacted.whenSaved()
    } finally {
      await client.close()
      await relay.stop()
    }
    const after = await PostgresStore.open({
      url,
      historyMs: HISTORY_MS,
      ...(keys === undefined ? {} : { encryption: { keys } }),
    })
    try {
      const page = await after.readFeed(source.head, 10)
      expect(page.entries[0]).toMatchObject({ position: source.head + 1, doc: 'compacted', seq: 5 })
      expect((await after.load('compacted')).headSeq).toBe(5)
    } finally {
      await after.close()
    }
  }, 120_000)
})

describe('relay migrate refusals', () => {
  it('refuses a target holding different data unless --force', async () => {
    const data = join(dir, 'data')
    await writeSource(data, undefined)
    const url = await server.createDatabase()
    const other = await PostgresStore.open({ url })
    await other.append('elsewhere', [entry(textUpdates(['x'], 9)[0]!)])
    await other.close()
    const io = { readKeys: readEncryptionKeys }
    const refused = recorder()
    expect(await runMigrateCommand(config(data, url, undefined), { ...io, ...refused })).toBe(1)
    expect(refused.lines.at(-1)?.message).toMatch(/holds different data/)
    const forced = recorder()
    expect(await runMigrateCommand(config(data, url, undefined, true), { ...io, ...forced })).toBe(
      0,
    )
    const check = await PostgresStore.open({ url })
    expect((await check.load('elsewhere')).headSeq).toBe(0)
    await check.close()
  }, 60_000)

  it('answers bad arguments with a message (exit 2)', async () => {
    expect(parseMigrateCommand(['--data', dir], {})).toMatchObject({
      kind: 'invalid',
      message: expect.stringMatching(/--postgres-url/),
    })
    expect(parseMigrateCommand(['--bogus'], {})).toMatchObject({ kind: 'invalid' })
    const secret = parseMigrateCommand(['--postgres-url', 'mysql://user:pw@x'], {})
    expect(secret).toMatchObject({ kind: 'invalid' })
    expect(JSON.stringify(secret)).not.toContain('pw')
    expect(
      parseMigrateCommand([], { WEFT_DATA: dir, WEFT_POSTGRES_URL: 'postgres://h/db' }),
    ).toMatchObject({ kind: 'migrate', config: { data: dir, 'postgres-url': 'postgres://h/db' } })
    const help = parseMigrateCommand(['--help'], {})
    expect(help.kind === 'help' && help.text).toMatch(/--force/)
    const missing = recorder()
    const code = await runMigrateCommand(config(join(dir, 'nope'), 'postgres://h/db', undefined), {
      readKeys: readEncryptionKeys,
      logger: missing.logger,
    })
    expect(code).toBe(2)
  })
})
