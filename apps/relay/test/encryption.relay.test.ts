import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createClient, type DocHandle, type WeftClient } from '@weft/client'
import { decodeMessage, type WeftError } from '@weft/protocol'
import { LevelStore, type EncryptionKey } from '@weft/store-level'
import { RawSocket, spawnRelay, startTestRelay, type RelayProcess } from '@weft/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as Y from 'yjs'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

const keyA: EncryptionKey = { id: '2026-01', key: randomBytes(32) }
const keyB: EncryptionKey = { id: '2026-02', key: randomBytes(32) }
const CONTENT = 'marmalade-orbit-5d21e8-stored-text'
const LATER = 'pelican-vortex-0b77c4-later-text'

let dir: string
let dataDir: string
let relays: RelayProcess[]
let clients: WeftClient[]

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-encryption-'))
  dataDir = join(dir, 'data')
  relays = []
  clients = []
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
  for (const relay of relays) if (relay.child.exitCode === null) await relay.stop('SIGKILL')
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

const start = async (args: string[]): Promise<RelayProcess> => {
  const relay = await spawnRelay(MAIN, dataDir, args)
  relays.push(relay)
  return relay
}

const open = (url: string, name: string): DocHandle => {
  const client = createClient({
    url,
    WebSocket: WebSocket,
    backoff: { initialMs: 20, maxMs: 100, slowRetryMs: 100, stableMs: 1000 },
  })
  clients.push(client)
  return client.open(name)
}

/** Runs `main.ts` with `args` to completion. */
const runMain = (args: string[]): Promise<{ code: number | null; output: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('close', (code) => resolve({ code, output }))
  })

/** The JSON log line with message `msg` in `output`. */
const logLine = (output: string, msg: string): Record<string, unknown> => {
  const line = output.split('\n').find((each) => each.includes(`"msg":"${msg}"`))
  if (line === undefined) throw new Error(`no "${msg}" line in:\n${output}`)
  return JSON.parse(line) as Record<string, unknown>
}

/** Every file of the LevelDB directory as one buffer. */
const filesOnDisk = async (): Promise<Buffer> => {
  const names = await readdir(dataDir)
  return Buffer.concat(await Promise.all(names.map((name) => readFile(join(dataDir, name)))))
}

// Each test starts several relay processes.
const PROCESS_TEST_MS = 60_000

describe('the relay with --encryption-keys-file', () => {
  it(
    'stores documents encrypted, reads them after a rotation, and re-encrypts with the CLI',
    async () => {
      const onlyA = await keysFile('a.json', [keyA])
      const both = await keysFile('a-b.json', [keyA, keyB])
      const onlyB = await keysFile('b.json', [keyB])

      const first = await start(['--encryption-keys-file', onlyA])
      expect(first.output()).toContain('"encryptionKey":"2026-01"')
      for (const name of ['notes', 'archive']) {
        const writer = open(first.url, name)
        await writer.whenSynced()
        writer.doc.getText('t').insert(0, CONTENT)
        await writer.whenSaved()
      }
      await Promise.all(clients.splice(0).map((client) => client.close()))
      // SIGTERM compacts, so the content is in a snapshot as well as (before) in a log record.
      expect(await first.stop('SIGTERM')).toBe(0)
      expect((await filesOnDisk()).includes(CONTENT)).toBe(false)

      const rotated = await start(['--encryption-keys-file', both])
      const reader = open(rotated.url, 'notes')
      await reader.whenSynced()
      expect(reader.doc.getText('t').toString()).toBe(CONTENT)
      reader.doc.getText('t').insert(0, LATER)
      await reader.whenSaved()
      await Promise.all(clients.splice(0).map((client) => client.close()))
      expect(await rotated.stop('SIGTERM')).toBe(0)

      // Each document holds a snapshot, its metadata and, for the history window, the log
      // records compaction folded: "archive" 3 values, all under A; "notes" 4, of which its
      // snapshot, metadata and newer record were sealed under B at the last stop. The change
      // feed adds 6: three entries (two under A), its metadata (B, written last) and each
      // document's sequence ("archive" under A, "notes" under B).
      const reencrypt = ['reencrypt', '--data', dataDir, '--encryption-keys-file', both]
      const reencrypted = await runMain(reencrypt)
      expect(reencrypted.code).toBe(0)
      expect(logLine(reencrypted.output, 'reencrypted')).toMatchObject({
        scanned: 13,
        rewritten: 7,
        complete: true,
        key: '2026-02',
      })
      const again = await runMain(reencrypt)
      expect(logLine(again.output, 'reencrypted')).toMatchObject({ scanned: 13, rewritten: 0 })
      // The history is readable with B alone.
      const history = await runMain([
        'docs',
        'history',
        'notes',
        '--data',
        dataDir,
        '--encryption-keys-file',
        onlyB,
      ])
      expect(history.code).toBe(0)
      expect(JSON.parse(history.output.slice(history.output.indexOf('{'))).entries).toHaveLength(2)
      expect((await filesOnDisk()).includes(LATER)).toBe(false)

      const withoutA = await start(['--encryption-keys-file', onlyB])
      const last = open(withoutA.url, 'notes')
      const archive = open(withoutA.url, 'archive')
      await Promise.all([last.whenSynced(), archive.whenSynced()])
      expect(last.doc.getText('t').toString()).toBe(LATER + CONTENT)
      expect(archive.doc.getText('t').toString()).toBe(CONTENT)
    },
    PROCESS_TEST_MS,
  )

  it(
    'refuses a document it cannot decrypt, and will not start on encrypted data without keys',
    async () => {
      const onlyA = await keysFile('a.json', [keyA])
      const onlyB = await keysFile('b.json', [keyB])
      const first = await start(['--encryption-keys-file', onlyA])
      const writer = open(first.url, 'notes')
      await writer.whenSynced()
      writer.doc.getText('t').insert(0, CONTENT)
      await writer.whenSaved()
      await Promise.all(clients.splice(0).map((client) => client.close()))
      expect(await first.stop('SIGTERM')).toBe(0)

      const wrong = await start(['--encryption-keys-file', onlyB])
      const handle = open(wrong.url, 'notes')
      const error = await new Promise<WeftError>((resolve) => handle.once('error', resolve))
      expect(error.code).toBe('UNAVAILABLE')
      expect(handle.doc.getText('t').toString()).toBe('')
      expect(handle.status.state).not.toBe('synced')
      await Promise.all(clients.splice(0).map((client) => client.close()))
      expect(await wrong.stop('SIGTERM')).toBe(0)

      await expect(spawnRelay(MAIN, dataDir)).rejects.toThrow(
        /exited \(1\).*holds encrypted values/s,
      )
      // Nothing was lost or overwritten on the way.
      const right = await start(['--encryption-keys-file', onlyA])
      const reader = open(right.url, 'notes')
      await reader.whenSynced()
      expect(reader.doc.getText('t').toString()).toBe(CONTENT)
    },
    PROCESS_TEST_MS,
  )

  it(
    'exits with a message naming the keys file and the problem, never the key',
    async () => {
      const short = randomBytes(16).toString('base64')
      const cases: Array<[string, string]> = [
        [
          JSON.stringify({ keys: [{ id: 'k', key: short }] }),
          'keys[0].key (id "k") must be 32 bytes',
        ],
        [`{ "keys": [{ "id": "k", "key": "${short}" `, 'is not valid JSON'],
        [JSON.stringify({ keys: [] }), 'needs { "keys"'],
        [
          JSON.stringify({
            keys: [keyA, keyA].map(({ id, key }) => ({
              id,
              key: Buffer.from(key).toString('base64'),
            })),
          }),
          'is used by an earlier key',
        ],
      ]
      const failures = await Promise.all(
        cases.map(async ([text], index) => {
          const file = join(dir, `bad-${index}.json`)
          await writeFile(file, text)
          const data = join(dir, `data-${index}`)
          return spawnRelay(MAIN, data, ['--encryption-keys-file', file]).then(
            () => '',
            (error: Error) => error.message,
          )
        }),
      )
      for (const [index, failed] of failures.entries()) {
        expect(logLine(failed, 'relay failed to start').error).toContain(cases[index]![1])
        expect(failed).not.toContain(short)
        expect(failed).not.toContain(Buffer.from(keyA.key).toString('base64'))
      }
      const nowhere = join(dir, 'no-such-dir')
      const keys = await keysFile('a.json', [keyA])
      const typo = await runMain(['reencrypt', '--data', nowhere, '--encryption-keys-file', keys])
      expect(typo.code).toBe(1)
      expect(logLine(typo.output, 'reencrypt failed').error).toContain(
        'is not a relay data directory',
      )
      const missing = await runMain(['reencrypt', '--data', dataDir])
      expect(missing).toMatchObject({
        code: 2,
        output: expect.stringContaining('needs --encryption-keys-file'),
      })
    },
    PROCESS_TEST_MS,
  )

  it(
    'reencrypt refuses a data directory a running relay holds',
    async () => {
      const keys = await keysFile('a.json', [keyA])
      await start(['--encryption-keys-file', keys])
      const result = await runMain(['reencrypt', '--data', dataDir, '--encryption-keys-file', keys])
      expect(result.code).toBe(1)
      expect(result.output).toContain('another relay')
    },
    PROCESS_TEST_MS,
  )
})

describe('a relay on a LevelStore whose key is missing', () => {
  it('refuses the document on both dialects with UNAVAILABLE and serves none of it', async () => {
    const seeded = await LevelStore.open({ path: dataDir, encryption: { keys: [keyA] } })
    const doc = new Y.Doc()
    doc.getText('t').insert(0, CONTENT)
    const meta = { author: 'x', correlationId: '', receivedAtMs: 0 }
    await seeded.append('doc', [{ update: Y.encodeStateAsUpdate(doc), meta }])
    await seeded.close()

    const store = await LevelStore.open({ path: dataDir, encryption: { keys: [keyB] } })
    const relay = await startTestRelay({ store, dataDir })
    try {
      const weft = await RawSocket.weft(relay.url)
      weft.sendMessage({ type: 'open', doc: 'doc', stateVector: new Uint8Array([0]) })
      expect(await weft.nextMessage((message) => message.type === 'error')).toMatchObject({
        doc: 'doc',
        code: 'UNAVAILABLE',
      })
      const types = weft.frames.map((frame) => decodeMessage(frame).type)
      expect(types).not.toContain('sync-step-2')
      expect(weft.frames.some((frame) => Buffer.from(frame).includes(CONTENT))).toBe(false)
      const yws = await RawSocket.open(`${relay.url}/doc`, false)
      yws.send(new Uint8Array([0, 0, 1, 0]))
      expect((await yws.closed).code).toBe(4503)
      expect(yws.frames).toEqual([])
      weft.close()
    } finally {
      await relay.close({ keepData: true })
    }
    const reopened = await LevelStore.open({ path: dataDir, encryption: { keys: [keyA] } })
    try {
      const loaded = await reopened.load('doc')
      const back = new Y.Doc()
      for (const update of loaded.updates) Y.applyUpdate(back, update)
      expect(back.getText('t').toString()).toBe(CONTENT)
    } finally {
      await reopened.close()
    }
  })
})
