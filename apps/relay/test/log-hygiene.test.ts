/**
 * Runs a relay process at debug level with JWT authentication and encryption at rest, drives it
 * through normal edits and through errors, and checks its captured output for document content,
 * tokens, the JWT secret and the encryption key.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createClient, type DocHandle, type WeftClient } from '@weft/client'
import { encodeMessage } from '@weft/protocol'
import type { DocScope } from '@weft/server'
import { RawSocket, spawnRelay, untilSameState, type RelayProcess } from '@weft/testkit'
import { SignJWT } from 'jose'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
const SECRET = randomBytes(32).toString('hex')
const ENCRYPTION_KEY = randomBytes(32).toString('base64')

/** Distinctive strings that appear only in documents, edits and presence. */
const CONTENT = {
  weftText: 'content-weft-text-ocelot-31d9',
  weftMap: 'content-weft-map-heron-8c02',
  presence: 'content-presence-name-lynx-5e7a',
  ywsText: 'content-yws-text-walrus-a4f3',
  readOnlyEdit: 'content-refused-edit-ibis-77b1',
  badUpdate: 'content-bad-update-gecko-02fe',
  garbageFrame: 'content-garbage-frame-mole-9a6c',
  textFrame: 'content-text-frame-newt-1d5b',
  outOfScopeEdit: 'content-out-of-scope-tapir-6c3e',
} as const

let dir: string
let relay: RelayProcess | null = null
const clients: WeftClient[] = []
const providers: WebsocketProvider[] = []
const sockets: RawSocket[] = []
const tokens: string[] = []

const sign = async (
  sub: string,
  docs: DocScope[],
  { expiresInSec = 3600, secret = SECRET } = {},
): Promise<string> => {
  const token = await new SignJWT({ weft: { docs } })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSec)
    .sign(new TextEncoder().encode(secret))
  tokens.push(token)
  return token
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-log-hygiene-'))
})

/** Starts the relay at debug level, with JWT auth and encryption at rest. */
const startRelay = async (): Promise<void> => {
  const keysFile = join(dir, 'keys.json')
  await writeFile(keysFile, JSON.stringify({ keys: [{ id: 'hygiene', key: ENCRYPTION_KEY }] }))
  // The secret reaches the relay through its variable, as in production; spawnRelay copies the
  // environment.
  vi.stubEnv('WEFT_JWT_SECRET', SECRET)
  relay = await spawnRelay(MAIN, join(dir, 'data'), [
    '--auth',
    'jwt',
    '--log-level',
    'debug',
    '--encryption-keys-file',
    keysFile,
    '--unload-grace-ms',
    '50',
  ])
}

afterEach(async () => {
  vi.unstubAllEnvs()
  await Promise.all(clients.splice(0).map((client) => client.close()))
  for (const provider of providers.splice(0)) provider.destroy()
  for (const socket of sockets.splice(0)) socket.close()
  if (relay !== null && relay.child.exitCode === null) await relay.stop('SIGKILL')
  relay = null
  await rm(dir, { recursive: true, force: true })
})

const weftOpen = (token: string, name: string): DocHandle => {
  const client = createClient({
    url: relay!.url,
    WebSocket: WebSocket,
    token,
    backoff: { initialMs: 20, maxMs: 100, slowRetryMs: 100, stableMs: 1000 },
  })
  clients.push(client)
  return client.open(name)
}

const raw = async (token: string): Promise<RawSocket> => {
  const socket = await RawSocket.hello(relay!.url, token)
  sockets.push(socket)
  return socket
}

const textUpdate = (text: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

/** Normal use: edits and presence on both dialects, then a second reader of everything. */
const editNormally = async (writer: string): Promise<void> => {
  const handle = weftOpen(writer, 'hygiene/notes')
  await handle.whenSynced()
  handle.awareness.setLocalStateField('user', { name: CONTENT.presence })
  handle.doc.getText('t').insert(0, CONTENT.weftText)
  handle.doc.getMap('m').set('field', CONTENT.weftMap)
  await handle.whenSaved()

  const ywsDoc = new Y.Doc()
  const provider = new WebsocketProvider(relay!.url, 'hygiene/yws', ywsDoc, {
    WebSocketPolyfill: WebSocket as never,
    disableBc: true,
    params: { token: writer },
  })
  providers.push(provider)
  ywsDoc.getText('t').insert(0, CONTENT.ywsText)
  const reader = weftOpen(writer, 'hygiene/yws')
  await reader.whenSynced()
  await untilSameState([ywsDoc, reader.doc])
}

/** Errors: bad tokens, forbidden documents and edits, malformed input. */
const makeErrors = async (writer: string): Promise<void> => {
  const expired = await sign('late', [{ pattern: '**', access: 'write' }], { expiresInSec: -60 })
  const forged = await sign('forger', [{ pattern: '**', access: 'write' }], {
    secret: randomBytes(32).toString('hex'),
  })
  const garbage = `not-a-jwt-${randomBytes(12).toString('hex')}`
  tokens.push(garbage)
  for (const token of [expired, forged, garbage]) {
    const socket = await raw(token)
    expect((await socket.closed).code).toBe(4401)
    const yws = await RawSocket.open(`${relay!.url}/hygiene/notes?token=${token}`, false)
    expect((await yws.closed).code).toBe(4401)
  }

  const reader = await sign('reader', [{ pattern: 'hygiene/**', access: 'read' }])
  const readOnly = weftOpen(reader, 'hygiene/notes')
  await readOnly.whenSynced()
  const refused = new Promise((resolve) => readOnly.once('rejected', resolve))
  readOnly.doc.getText('t').insert(0, CONTENT.readOnlyEdit)
  await refused

  const tasksOnly = await sign('tasks', [{ pattern: 'hygiene/**', access: 'write', types: ['x'] }])
  const limited = await raw(tasksOnly)
  limited.sendMessage({ type: 'open', doc: 'hygiene/notes', stateVector: new Uint8Array([0]) })
  await limited.nextMessage((message) => message.type === 'sync-step-2')
  limited.sendMessage({
    type: 'update',
    doc: 'hygiene/notes',
    ref: 1,
    update: textUpdate(CONTENT.outOfScopeEdit),
  })
  await limited.nextMessage((message) => message.type === 'rejected')

  const forbidden = await raw(reader)
  forbidden.sendMessage({ type: 'open', doc: 'private/plans', stateVector: new Uint8Array([0]) })
  expect(await forbidden.nextMessage((message) => message.type === 'error')).toMatchObject({
    code: 'FORBIDDEN',
  })
  forbidden.sendMessage({ type: 'refresh-token', token: garbage })
  expect((await forbidden.closed).code).toBe(4401)

  const malformed = await raw(writer)
  malformed.sendMessage({ type: 'open', doc: 'hygiene/notes', stateVector: new Uint8Array([0]) })
  await malformed.nextMessage((message) => message.type === 'sync-step-2')
  const bad = new TextEncoder().encode(`\u0001\u0001${CONTENT.badUpdate}`)
  malformed.sendMessage({ type: 'update', doc: 'hygiene/notes', ref: 1, update: bad })
  await malformed.nextMessage((message) => message.type === 'rejected' || message.type === 'error')
  // A frame cut short inside its update: BAD_MESSAGE.
  const frame = encodeMessage({
    type: 'update',
    doc: 'hygiene/notes',
    ref: 2,
    update: textUpdate(CONTENT.garbageFrame),
  })
  malformed.send(frame.subarray(0, frame.length - 4))
  expect((await malformed.closed).code).toBe(4400)
  const unknown = await raw(writer)
  unknown.send(new TextEncoder().encode(`\u00ff${CONTENT.garbageFrame}`))
  expect((await unknown.closed).code).toBe(4405)

  const texting = await raw(writer)
  texting.send(CONTENT.textFrame)
  expect((await texting.closed).code).toBe(1003)
  const ywsGarbage = await RawSocket.open(`${relay!.url}/hygiene/yws?token=${writer}`, false)
  ywsGarbage.send(new TextEncoder().encode(`\u0000\u0002\u0040${CONTENT.badUpdate}`))
  expect((await ywsGarbage.closed).code).toBeGreaterThanOrEqual(4000)
}

describe('relay logs', () => {
  it('never contain document content, tokens, the JWT secret or the encryption key', async () => {
    await startRelay()
    const writer = await sign('writer', [{ pattern: 'hygiene/**', access: 'write' }])
    await editNormally(writer)
    await makeErrors(writer)
    await Promise.all(clients.splice(0).map((client) => client.close()))
    for (const provider of providers.splice(0)) provider.destroy()
    expect(await relay!.stop('SIGTERM')).toBe(0)
    const output = relay!.output()

    // The run logged what it is meant to: sockets, refusals, compaction, at debug level.
    for (const expected of [
      '"msg":"socket opened"',
      '"code":"UNAUTHORIZED"',
      '"code":"BAD_MESSAGE"',
      '"code":"UNSUPPORTED_DATA"',
      '"code":"UNKNOWN_MESSAGE"',
      '"msg":"compacted"',
      '"doc":"hygiene/notes"',
    ]) {
      expect(output).toContain(expected)
    }
    const leaks: string[] = []
    const check = (label: string, secret: string): void => {
      if (output.includes(secret)) leaks.push(`${label}: ${secret}`)
    }
    for (const [label, text] of Object.entries(CONTENT)) check(`content ${label}`, text)
    for (const token of tokens) {
      check('token', token)
      // The payload and signature alone identify a token too (the header is the same for all).
      for (const part of token.split('.').slice(1)) if (part.length >= 16) check('token part', part)
    }
    check('JWT secret', SECRET)
    check('encryption key', ENCRYPTION_KEY)
    check('encryption key (hex)', Buffer.from(ENCRYPTION_KEY, 'base64').toString('hex'))
    expect(leaks).toEqual([])
  }, 60_000)

  it('do not repeat a JWT secret that the relay refuses at start', async () => {
    const short = `short-${randomBytes(8).toString('hex')}`
    for (const [args, env] of [
      [['--auth', 'jwt'], { WEFT_JWT_SECRET: short }],
      [['--auth', 'jwt', '--jwt-secret', short], {}],
    ] as const) {
      const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...env },
      })
      let output = ''
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
      const code = await new Promise((resolve) => child.once('close', resolve))
      expect(code).toBe(2)
      expect(output).toMatch(/(WEFT_JWT_SECRET|--jwt-secret)=\(hidden\): .*at least 32/)
      expect(output).not.toContain(short)
    }
  }, 30_000)
})
