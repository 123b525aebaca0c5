import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createClient, type WeftClient } from '@weft/client'
import { LevelLocalStore } from '@weft/client/level'
import { startTestRelay, untilSameState, type TestRelay } from '@weft/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'

let dir: string
let relay: TestRelay
const clients: WeftClient[] = []
const stores: LevelLocalStore[] = []

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-device-'))
  relay = await startTestRelay()
})

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close()
  for (const store of stores.splice(0)) await store.close()
  await relay.close()
  await rm(dir, { recursive: true, force: true })
})

const openStore = async (): Promise<LevelLocalStore> => {
  const store = await LevelLocalStore.open({ location: dir })
  stores.push(store)
  return store
}

const track = (client: WeftClient): WeftClient => {
  clients.push(client)
  return client
}

/** Delivers a device's pending edits to the relay and checks another client receives them all. */
const reconnectAndDeliver = async (pendingBefore: number, expected: string[]): Promise<void> => {
  const store = await openStore()
  const client = track(
    createClient({ url: relay.url, WebSocket: WebSocket, store, autoConnect: false }),
  )
  const handle = client.open('notes')
  await handle.whenLoaded()
  expect(handle.pending).toBe(pendingBefore)
  expect(handle.doc.getArray('edits').toArray()).toEqual(expected)
  client.connect()
  await handle.whenSaved()
  expect(handle.pending).toBe(0)
  expect(handle.pendingBytes).toBe(0)
  expect(handle.lastSavedAt).not.toBeNull()
  const reader = track(createClient({ url: relay.url, WebSocket: WebSocket })).open('notes')
  await reader.whenSynced()
  await untilSameState([handle.doc, reader.doc])
  expect(reader.doc.getArray('edits').toArray()).toEqual(expected)
  await handle.whenStored()
  expect((await store.load('notes')).outbox).toEqual([])
}

describe('pending edits survive a restart of the app, on the level store', () => {
  it('after the client is destroyed and the store closed', async () => {
    const store = await openStore()
    const offline = createClient({ url: 'ws://127.0.0.1:9', WebSocket: WebSocket, store })
    const handle = offline.open('notes')
    await handle.whenLoaded()
    const expected = Array.from({ length: 25 }, (_, index) => `offline-${index}`)
    for (const item of expected) handle.doc.getArray<string>('edits').push([item])
    expect(handle.pending).toBe(25)
    await offline.close()
    await store.close()
    stores.pop()
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
