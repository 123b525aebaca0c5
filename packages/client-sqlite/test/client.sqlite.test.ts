/**
 * A Weft client on SqliteLocalStore (better-sqlite3), as a React Native app keeps it: edits made
 * offline survive a restart and a SIGKILL of the writing process, and reach the real relay.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { startTestRelay, testClient, untilSameState, type TestRelay } from '@weft/testkit'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest'
import { betterSqlite3Executor, SqliteLocalStore } from '../src/index.js'

let file: string
let relay: TestRelay

beforeEach(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'weft-sqlite-device-'))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  file = join(dir, 'local.db')
  relay = await startTestRelay()
})

afterEach(async () => {
  await relay.close()
})

/** The device's store on `file`; closed (with its database) after the test. */
const openStore = async (): Promise<SqliteLocalStore> => {
  const db = new Database(file)
  const store = await SqliteLocalStore.open({ executor: betterSqlite3Executor(db) })
  onTestFinished(async () => {
    await store.close()
    db.close()
  })
  return store
}

/** Reopens the device, delivers its pending edits and returns what the relay then holds. */
const reconnectAndDeliver = async (): Promise<{ pendingBefore: number; edits: string[] }> => {
  const store = await openStore()
  const client = testClient(relay, { store, autoConnect: false })
  const handle = client.open('notes')
  await handle.whenLoaded()
  const pendingBefore = handle.pending
  client.connect()
  await handle.whenSaved()
  expect(handle.pending).toBe(0)
  const reader = testClient(relay).open('notes')
  await reader.whenSynced()
  await untilSameState([handle.doc, reader.doc])
  await handle.whenStored()
  expect((await store.load('notes')).outbox).toEqual([])
  return { pendingBefore, edits: reader.doc.getArray<string>('edits').toArray() }
}

describe('a client on SqliteLocalStore', () => {
  it('keeps edits made offline across a restart of the app and saves them', async () => {
    const store = await openStore()
    const offline = testClient({ url: 'ws://127.0.0.1:9' }, { store })
    const handle = offline.open('notes')
    await handle.whenLoaded()
    const expected = Array.from({ length: 40 }, (_, index) => `offline-${index}`)
    for (const item of expected) handle.doc.getArray<string>('edits').push([item])
    await handle.whenStored()
    await offline.close()
    await store.close()
    const { pendingBefore, edits } = await reconnectAndDeliver()
    expect(pendingBefore).toBe(40)
    expect(edits).toEqual(expected)
  })

  it('loses no stored edit when the writing process is killed with SIGKILL mid-stream', async () => {
    const require = createRequire(import.meta.url)
    const writer = spawn(
      process.execPath,
      [
        '--import',
        pathToFileURL(require.resolve('tsx')).href,
        fileURLToPath(new URL('./fixtures/sqlite-writer.ts', import.meta.url)),
        file,
        'notes',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    // Killed while it writes, once it has reported at least 200 edits stored.
    const stored = await new Promise<number>((resolve, reject) => {
      let output = ''
      writer.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        const counts = [...output.matchAll(/stored (\d+)/g)].map((match) => Number(match[1]))
        const last = counts.at(-1) ?? 0
        if (last >= 200) {
          writer.kill('SIGKILL')
          resolve(last)
        }
      })
      writer.once('exit', (code) => reject(new Error(`writer exited (${code}): ${output}`)))
    })
    await new Promise((resolve) => writer.once('exit', resolve))
    const { pendingBefore, edits } = await reconnectAndDeliver()
    console.log(`killed after ${stored} edits reported stored; ${edits.length} delivered`)
    // Every edit it reported stored, in order and without a hole; perhaps some more after them.
    expect(pendingBefore).toBeGreaterThanOrEqual(stored)
    expect(edits.length).toBeGreaterThanOrEqual(stored)
    expect(edits).toEqual(Array.from({ length: edits.length }, (_, index) => `offline-${index}`))
  }, 60_000)
})
