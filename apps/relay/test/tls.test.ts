import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { get } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClient, type WeftClient } from '@weft/client'
import { WEFT_SUBPROTOCOL } from '@weft/protocol'
import { spawnRelay, type RelayProcess } from '@weft/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { parseCommand } from '../src/config.js'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const FIXTURES = fileURLToPath(new URL('./fixtures/tls/', import.meta.url))

let dir: string
let certFile: string
let keyFile: string
let ca: string
let relay: RelayProcess | null = null
const clients: WeftClient[] = []

/**
 * A fresh self-signed certificate for 127.0.0.1 made with openssl, or the committed test-only
 * pair where openssl is missing.
 */
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-tls-'))
  certFile = join(dir, 'cert.pem')
  keyFile = join(dir, 'key.pem')
  const made = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '1',
    '-subj',
    '/CN=weft-tls-test',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ])
  if (made.error !== undefined || made.status !== 0) {
    certFile = join(FIXTURES, 'cert.pem')
    keyFile = join(FIXTURES, 'key.pem')
  }
  ca = await readFile(certFile, 'utf8')
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()))
  if (relay !== null && relay.child.exitCode === null) await relay.stop('SIGKILL')
  relay = null
})

const startTls = async (): Promise<RelayProcess> => {
  relay = await spawnRelay(MAIN, join(dir, 'data'), [
    '--tls-cert-file',
    certFile,
    '--tls-key-file',
    keyFile,
  ])
  return relay
}

/** GET over https, trusting `trusted` as the only CA; resolves with status and body. */
const httpsGet = (url: string, trusted: string | undefined): Promise<[number, string]> =>
  new Promise((resolve, reject) => {
    get(url, { ...(trusted === undefined ? {} : { ca: trusted }) }, (response) => {
      let body = ''
      response.on('data', (chunk: Buffer) => (body += chunk.toString()))
      response.on('end', () => resolve([response.statusCode ?? 0, body]))
    }).on('error', reject)
  })

/** `ws`'s WebSocket trusting the test certificate, shaped as the client expects. */
const trustingWebSocket = (): new (url: string, protocols?: string | string[]) => WebSocket =>
  class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { ca })
    }
  }

/** Opens a raw socket; resolves with the negotiated subprotocol or rejects with the error. */
const connect = (url: string, options: { ca?: string } = {}): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(url, [WEFT_SUBPROTOCOL], options)
    socket.once('open', () => {
      resolve(socket.protocol)
      socket.close()
    })
    socket.once('error', reject)
  })

describe('the relay with --tls-cert-file and --tls-key-file', () => {
  it('serves https:// and wss:// with the given certificate, and nothing in clear', async () => {
    const { port, output } = await startTls()
    expect(output()).toMatch(/"url":"https:\/\/127\.0\.0\.1:\d+","ws":"wss:\/\/[^"]+".*"tls":true/)
    const https = `https://127.0.0.1:${port}`
    const wss = `wss://127.0.0.1:${port}`
    expect(await httpsGet(`${https}/healthz`, ca)).toEqual([200, 'ok\n'])
    expect(await connect(wss, { ca })).toBe(WEFT_SUBPROTOCOL)

    // The certificate is the configured one: without trusting it, clients refuse the relay.
    await expect(httpsGet(`${https}/healthz`, undefined)).rejects.toThrow(/self[- ]signed/i)
    await expect(connect(wss)).rejects.toThrow(/self[- ]signed/i)
    // Plain ws:// gets no WebSocket on the TLS port.
    await expect(connect(`ws://127.0.0.1:${port}`)).rejects.toThrow()
  }, 30_000)

  it('syncs and saves Weft documents over wss://', async () => {
    const { port } = await startTls()
    const url = `wss://127.0.0.1:${port}`
    const open = (name: string) => {
      const client = createClient({ url, WebSocket: trustingWebSocket() as never })
      clients.push(client)
      return client.open(name)
    }
    const writer = open('tls-doc')
    await writer.whenSynced()
    writer.doc.getText('t').insert(0, 'sent over TLS')
    await writer.whenSaved()
    const reader = open('tls-doc')
    await reader.whenSynced()
    expect(reader.doc.getText('t').toString()).toBe('sent over TLS')
  }, 30_000)

  it('exits naming an unreadable certificate file', async () => {
    const missing = join(dir, 'missing.pem')
    const failed = await spawnRelay(MAIN, join(dir, 'data-missing'), [
      '--tls-cert-file',
      missing,
      '--tls-key-file',
      keyFile,
    ]).then(
      () => '',
      (error: Error) => error.message,
    )
    expect(failed).toContain(`--tls-cert-file ${missing} cannot be read`)
  }, 30_000)

  it('takes both files or neither', () => {
    expect(parseCommand(['--auth', 'open', '--tls-cert-file', 'c.pem'], {})).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('--tls-cert-file and --tls-key-file go together'),
    })
    expect(parseCommand(['--auth', 'open'], { WEFT_TLS_KEY_FILE: 'k.pem' })).toMatchObject({
      kind: 'invalid',
    })
    expect(
      parseCommand(['--auth', 'open', '--tls-cert-file', 'c.pem', '--tls-key-file', 'k.pem'], {}),
    ).toMatchObject({ kind: 'run', config: { 'tls-cert-file': 'c.pem', 'tls-key-file': 'k.pem' } })
  })
})
