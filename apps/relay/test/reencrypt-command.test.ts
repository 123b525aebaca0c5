/**
 * `relay reencrypt --store postgres`: its options, a run against a real PostgreSQL (plaintext and
 * old-key values moved under the newest key, readable with it alone), a stopped run, and the
 * command line through `main.ts`.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Logger } from '@weft/server'
import type { EncryptionKey, FeedChange } from '@weft/server/store'
import { PostgresStore } from '@weft/store-postgres'
import { startPostgres, type TestPostgres } from '@weft/testkit'
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  parseReencryptCommand,
  reencryptHelpText,
  runReencryptCommand,
  type ReencryptConfig,
} from '../src/reencrypt-command.js'
import { readEncryptionKeys } from '../src/relay-server.js'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
const HISTORY_MS = 60_000
const keyA: EncryptionKey = { id: '2026-01', key: randomBytes(32) }
const keyB: EncryptionKey = { id: '2026-02', key: randomBytes(32) }

let server: TestPostgres
let dir: string
beforeAll(async () => {
  server = await startPostgres()
}, 60_000)
afterAll(async () => {
  await server.stop()
})
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-reencrypt-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Writes a keys file in the relay's format and returns its path. */
const keysFile = async (name: string, keys: EncryptionKey[]): Promise<string> => {
  const path = join(dir, name)
  const json = {
    keys: keys.map(({ id, key }) => ({ id, key: Buffer.from(key).toString('base64') })),
  }
  await writeFile(path, JSON.stringify(json))
  return path
}

/** A logger keeping every line. */
const recorder = () => {
  const lines: Array<{ message: string; context: Record<string, unknown> }> = []
  const record = (message: string, context?: Record<string, unknown>): void => {
    lines.push({ message, context: context ?? {} })
  }
  const logger: Logger = { debug: record, info: record, warn: record, error: record }
  return { logger, lines }
}

const change = (): FeedChange => ({
  kind: 'update',
  author: 'alice',
  correlationId: 'c',
  receivedAtMs: Date.now(),
  bytes: 1,
  events: [],
})

/** Appends `text` to document `name`'s text `t`, with a feed entry. */
const appendText = async (store: PostgresStore, name: string, text: string): Promise<void> => {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  const meta = { author: 'alice', correlationId: 'c', receivedAtMs: Date.now() }
  await store.append(name, [{ update: Y.encodeStateAsUpdate(doc), meta }], [change()])
}

/** The text `t` of document `name` as `store` reads it. */
const textOf = async (store: PostgresStore, name: string): Promise<string> => {
  const stored = await store.load(name)
  const doc = new Y.Doc()
  if (stored.snapshot !== null) Y.applyUpdate(doc, stored.snapshot)
  for (const update of stored.updates) Y.applyUpdate(doc, update)
  return doc.getText('t').toString()
}

/** A database holding a plaintext document, then one under key A, and a state record. */
const seedDatabase = async (): Promise<string> => {
  const url = await server.createDatabase()
  const plain = await PostgresStore.open({ url, historyMs: HISTORY_MS })
  await appendText(plain, 'plain', 'written in clear')
  await plain.close()
  const sealed = await PostgresStore.open({
    url,
    historyMs: HISTORY_MS,
    encryption: { keys: [keyA] },
  })
  await appendText(sealed, 'sealed', 'written under A')
  await sealed.writeState([{ key: 'webhook:cursor:orders', value: { after: 2 } }])
  await sealed.close()
  return url
}

/** Every document, feed entry and state record reads back with key B alone. */
const expectReadableWithBOnly = async (url: string): Promise<void> => {
  const onlyB = await PostgresStore.open({ url, encryption: { keys: [keyB] } })
  try {
    expect(await textOf(onlyB, 'plain')).toBe('written in clear')
    expect(await textOf(onlyB, 'sealed')).toBe('written under A')
    expect((await onlyB.readFeed(0, 10)).entries.map((entry) => entry.doc)).toEqual([
      'plain',
      'sealed',
    ])
    expect(await onlyB.readState('webhook:')).toEqual([
      { key: 'webhook:cursor:orders', value: { after: 2 } },
    ])
  } finally {
    await onlyB.close()
  }
}

/** Runs `main.ts` with `args` and `env` to completion. */
const runMain = (
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('close', (code) => resolve({ code, output }))
  })

describe('relay reencrypt --store postgres', () => {
  it('takes --store postgres and --postgres-url, as flags or variables, never showing the URL', () => {
    const url = 'postgres://weft:s3cret-pw@db:5432/weft'
    expect(
      parseReencryptCommand(
        ['--store', 'postgres', '--postgres-url', url, '--encryption-keys-file', 'k.json'],
        {},
      ),
    ).toEqual({
      kind: 'reencrypt',
      config: { store: 'postgres', 'postgres-url': url, 'encryption-keys-file': 'k.json' },
    })
    expect(
      parseReencryptCommand([], {
        WEFT_STORE: 'postgres',
        WEFT_POSTGRES_URL: url,
        WEFT_ENCRYPTION_KEYS_FILE: 'k.json',
      }),
    ).toMatchObject({ kind: 'reencrypt', config: { store: 'postgres', 'postgres-url': url } })
    expect(
      parseReencryptCommand(['--store', 'postgres', '--encryption-keys-file', 'k.json'], {}),
    ).toMatchObject({ kind: 'invalid', message: expect.stringContaining('needs --postgres-url') })
    expect(
      parseReencryptCommand(['--store', 'memory', '--encryption-keys-file', 'k.json'], {}),
    ).toMatchObject({ kind: 'invalid', message: expect.stringContaining('level or postgres') })
    const bad = parseReencryptCommand(
      ['--store', 'postgres', '--postgres-url', 'mysql://weft:s3cret-pw@db/weft'],
      {},
    )
    expect(bad).toMatchObject({ kind: 'invalid', message: expect.stringContaining('(hidden)') })
    expect(JSON.stringify(bad)).not.toContain('s3cret-pw')
    const help = reencryptHelpText()
    expect(help).toContain('--store postgres --postgres-url <url>')
    expect(help).toMatch(/--postgres-url <value>[\s\S]*Env WEFT_POSTGRES_URL/)
    expect(help).not.toContain('memory')
  })

  it('moves every value under the newest key; a stopped run exits 1 and a rerun finishes', async () => {
    const url = await seedDatabase()
    const config: ReencryptConfig = {
      store: 'postgres',
      'postgres-url': url,
      'encryption-keys-file': await keysFile('a-b.json', [keyA, keyB]),
    }
    const io = { readKeys: readEncryptionKeys }

    const stopped = recorder()
    const aborted = AbortSignal.abort()
    expect(await runReencryptCommand(config, { ...io, ...stopped, signal: aborted })).toBe(1)
    expect(stopped.lines).toEqual([
      {
        message: 'reencrypt stopped; run it again to finish',
        context: { scanned: 0, rewritten: 0, batches: 0, complete: false, key: keyB.id },
      },
    ])

    const run = recorder()
    expect(await runReencryptCommand(config, { ...io, ...run })).toBe(0)
    // Two records, two feed entries and one state record; every one was plaintext or under A.
    expect(run.lines.at(-1)).toEqual({
      message: 'reencrypted',
      context: {
        scanned: 5,
        rewritten: 5,
        batches: expect.any(Number),
        complete: true,
        key: keyB.id,
        store: 'postgres',
      },
    })
    expect(JSON.stringify(run.lines)).not.toContain(url)
    await expectReadableWithBOnly(url)
  })

  it('runs from the command line with WEFT_POSTGRES_URL; a key missing from the file fails it', async () => {
    const url = await seedDatabase()
    const env = { WEFT_STORE: 'postgres', WEFT_POSTGRES_URL: url }
    const onlyB = await keysFile('b.json', [keyB])
    const refused = await runMain(['reencrypt', '--encryption-keys-file', onlyB], env)
    expect(refused.code).toBe(1)
    expect(refused.output).toContain('"msg":"reencrypt failed"')
    expect(refused.output).toContain(`is encrypted with key \\"${keyA.id}\\"`)

    const both = await keysFile('a-b.json', [keyA, keyB])
    const done = await runMain(['reencrypt', '--encryption-keys-file', both], env)
    expect(done.code).toBe(0)
    const line = done.output.split('\n').find((each) => each.includes('"msg":"reencrypted"'))
    expect(JSON.parse(line ?? '{}')).toMatchObject({
      scanned: 5,
      rewritten: 5,
      complete: true,
      key: keyB.id,
      store: 'postgres',
    })
    expect(done.output).not.toContain(url)
    await expectReadableWithBOnly(url)
  }, 60_000)
})
