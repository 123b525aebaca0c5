import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { LevelLocalStore } from '@weft/client/level'
import { startTestRelay, testClient, untilSameState, type TestRelay } from '@weft/testkit'
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest'

let dir: string
let relay: TestRelay

// Test clients close when the test has finished; the stores they use close after them, and the
// directory goes last (finish hooks run in reverse order of registration).
beforeEach(async () => {
  const made = await mkdtemp(join(tmpdir(), 'weft-device-'))
  onTestFinished(() => rm(made, { recursive: true, force: true }))
  dir = made
  relay = await startTestRelay()
})

afterEach(async () => {
  await relay.close()
})

const openStore = async (): Promise<LevelLocalStore> => {
  const store = await LevelLocalStore.open({ location: dir })
  onTestFinished(() => store.close())
  return store
}

/** Delivers a device's pending edits to the relay and checks another client receives them all. */
const reconnectAndDeliver = async (pendingBefore: number, expected: string[]): Promise<void> => {
  const store = await openStore()
  const client = testClient(relay, { store, autoConnect: false })
  const handle = client.open('notes')
  await handle.whenLoaded()
  expect(handle.pending).toBe(pendingBefore)
  expect(handle.doc.getArray('edits').toArray()).toEqual(expected)
  client.connect()
  await handle.whenSaved()
  expect(handle.pending).toBe(0)
  expect(handle.pendingBytes).toBe(0)
  expect(handle.lastSavedAt).not.toBeNull()
  const reader = testClient(relay).open('notes')
  await reader.whenSynced()
  await untilSameState([handle.doc, reader.doc])
  expect(reader.doc.getArray('edits').toArray()).toEqual(expected)
  await handle.whenStored()
  expect((await store.load('notes')).outbox).toEqual([])
}

describe('pending edits survive a restart of the app, on the level store', () => {
  it('after the client is destroyed and the store closed', async () => {
    const store = await openStore()
    const offline = testClient({ url: 'ws://127.0.0.1:9' }, { store })
    const handle = offline.open('notes')
    await handle.whenLoaded()
    const expected = Array.from({ length: 25 }, (_, index) => `offline-${index}`)
    for (const item of expected) handle.doc.getArray<string>('edits').push([item])
    expect(handle.pending).toBe(25)
    await offline.close()
    await store.close()
    await reconnectAndDeliver(25, expected)
  })

  it('after the process is killed with SIGKILL once the edits are stored', async () => {
    const require = createRequire(import.meta.url)
    const writer = spawn(
      process.execPath,
      [
        '--import',
        pathToFileURL(require.resolve('tsx')).href,
        fileURLToPath(new URL('./fixtures/offline-writer.ts', import.meta.url)),
        dir,
        'notes',
        '30',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    const line = await new Promise<string>((resolve, reject) => {
      let output = ''
      writer.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('\n')) resolve(output.trim())
      })
      writer.once('exit', (code) =>
        reject(new Error(`writer exited (${code}) before storing: ${output}`)),
      )
    })
    expect(line).toMatch(/^stored 30 \d+$/)
    const exited = new Promise((resolve) => writer.once('exit', resolve))
    writer.kill('SIGKILL')
    await exited
    const expected = Array.from({ length: 30 }, (_, index) => `offline-${index}`)
    await reconnectAndDeliver(30, expected)
  }, 30_000)
})
