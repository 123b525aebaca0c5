import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ERROR_CODES, type WeftMessage } from '@weft/protocol'
import { jwtAuth, type Authenticator, type DocScope } from '@weft/server'
import {
  RawSocket,
  startTestRelay,
  testClient,
  untilSameState,
  type TestRelay,
} from '@weft/testkit'
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

const SECRET = 'a-test-secret-of-at-least-32-bytes!!'
const secretKey = new TextEncoder().encode(SECRET)

/** An HS256 token for `sub` with the given document scopes; `expiresInSec` may be negative. */
const token = async (
  sub: string,
  docs: DocScope[],
  { expiresInSec = 3600, key = secretKey as Uint8Array | CryptoKey, alg = 'HS256', kid = '' } = {},
): Promise<string> => {
  const jwt = new SignJWT({ weft: { docs } })
    .setProtectedHeader(kid ? { alg, kid } : { alg })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSec)
  return jwt.sign(key)
}

const writeAll: DocScope[] = [{ pattern: '**', access: 'write' }]

let relay: TestRelay | undefined
const sockets: RawSocket[] = []
const servers: Server[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close()
  for (const server of servers.splice(0)) server.close()
  await relay?.close()
  relay = undefined
})

const startRelay = async (
  auth: Authenticator = jwtAuth({ secret: SECRET, clockToleranceSec: 0 }),
) => {
  relay = await startTestRelay({ auth })
  return relay
}

/** A raw Weft socket that sent `hello` with `tokenValue`; resolves once it is open. */
const rawWeft = async (url: string, tokenValue: string): Promise<RawSocket> => {
  const raw = await RawSocket.hello(url, tokenValue)
  sockets.push(raw)
  return raw
}

const textUpdate = (text: string, clientID: number): Uint8Array => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

const isType =
  <T extends WeftMessage['type']>(type: T, doc?: string) =>
  (message: WeftMessage): boolean =>
    message.type === type && (doc === undefined || (message as { doc?: string }).doc === doc)

describe('authentication', () => {
  it('lets a valid token in and refuses missing, forged and expired ones with 4401', async () => {
    const { url } = await startRelay()
    const ok = await rawWeft(url, await token('alice', writeAll))
    expect(await ok.nextMessage(isType('welcome'))).toMatchObject({ type: 'welcome' })

    const forged = await new SignJWT({ weft: { docs: writeAll } })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-that-is-32-bytes-long'))
    for (const bad of [
      '',
      'not-a-jwt',
      forged,
      await token('bob', writeAll, { expiresInSec: -5 }),
    ]) {
      const raw = await rawWeft(url, bad)
      const closed = await raw.closed
      expect(closed.code).toBe(ERROR_CODES.UNAUTHORIZED.closeCode)
      expect(closed.reason).not.toContain(bad || '\u0000')
    }
  })

  it('queues what a client sends while its token is verified, up to a limit', async () => {
    const { url } = await startRelay()
    const raw = await rawWeft(url, await token('alice', writeAll))
    // Sent right after hello, before the relay has answered: served once authenticated.
    raw.sendMessage({ type: 'open', doc: 'early', stateVector: new Uint8Array([0]) })
    await raw.nextMessage(isType('welcome'))
    await raw.nextMessage(isType('sync-step-2', 'early'))
  })

  it('refuses a document the token does not cover, for that document only', async () => {
    const { url } = await startRelay()
    const raw = await rawWeft(url, await token('alice', [{ pattern: 'team/*', access: 'write' }]))
    await raw.nextMessage(isType('welcome'))
    raw.sendMessage({ type: 'open', doc: 'other/secret', stateVector: new Uint8Array([0]) })
    const refused = await raw.nextMessage(isType('error', 'other/secret'))
    expect(refused).toMatchObject({ code: 'FORBIDDEN' })
    // Patterns: `*` stays within one segment.
    raw.sendMessage({ type: 'open', doc: 'team/a/b', stateVector: new Uint8Array([0]) })
    expect(await raw.nextMessage(isType('error', 'team/a/b'))).toMatchObject({ code: 'FORBIDDEN' })
    raw.sendMessage({ type: 'open', doc: 'team/notes', stateVector: new Uint8Array([0]) })
    await raw.nextMessage(isType('sync-step-2', 'team/notes'))
    raw.sendMessage({ type: 'update', doc: 'team/notes', ref: 1, update: textUpdate('hi', 5) })
    await raw.nextMessage((message) => message.type === 'saved' && message.ref === 1)
    expect(raw.open).toBe(true)
  })

  it('verifies RS256 and EdDSA public keys and a JWKS served over HTTP', async () => {
    const rsa = await generateKeyPair('RS256')
    const ed = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const jwk = { ...(await exportJWK(ed.publicKey)), kid: 'key-1', alg: 'EdDSA' }
    const jwksServer = createServer((_request, response) =>
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: [jwk] })),
    )
    servers.push(jwksServer)
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
    const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`
    const cases: Array<[Authenticator, string]> = [
      [
        jwtAuth({ publicKey: await exportSPKI(rsa.publicKey), algorithm: 'RS256' }),
        await token('rsa-user', writeAll, { key: rsa.privateKey, alg: 'RS256' }),
      ],
      [
        jwtAuth({ publicKey: await exportSPKI(ed.publicKey), algorithm: 'EdDSA' }),
        await token('ed-user', writeAll, { key: ed.privateKey, alg: 'EdDSA' }),
      ],
      [
        jwtAuth({ jwksUrl }),
        await token('jwks-user', writeAll, { key: ed.privateKey, alg: 'EdDSA', kid: 'key-1' }),
      ],
    ]
    for (const [auth, good] of cases) {
      const { url } = await startRelay(auth)
      const raw = await rawWeft(url, good)
      await raw.nextMessage(isType('welcome'))
      // A token signed with the shared secret is not accepted by a public-key relay.
      const wrong = await rawWeft(url, await token('x', writeAll))
      expect((await wrong.closed).code).toBe(ERROR_CODES.UNAUTHORIZED.closeCode)
      await relay!.close()
      relay = undefined
    }
  })

  it('closes a session whose token expires, unless it was refreshed in time', async () => {
    const { url } = await startRelay()
    // `exp` has whole seconds: a token "valid for 1 s" may have a few milliseconds left, too few
    // to refresh it on a loaded machine; 2 s leaves at least one.
    const short = await rawWeft(url, await token('alice', writeAll, { expiresInSec: 2 }))
    await short.nextMessage(isType('welcome'))
    const refreshed = await rawWeft(url, await token('alice', writeAll, { expiresInSec: 2 }))
    await refreshed.nextMessage(isType('welcome'))
    refreshed.sendMessage({ type: 'refresh-token', token: await token('alice', writeAll) })
    expect((await short.closed).code).toBe(ERROR_CODES.UNAUTHORIZED.closeCode)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(refreshed.open).toBe(true)
    // A refresh for another subject is refused.
    refreshed.sendMessage({ type: 'refresh-token', token: await token('mallory', writeAll) })
    expect((await refreshed.closed).code).toBe(ERROR_CODES.UNAUTHORIZED.closeCode)
  })

  it("revokes a user's sessions at once, leaving others alone", async () => {
    const { url, relay: running } = await startRelay()
    const alice = await rawWeft(url, await token('alice', writeAll))
    const bob = await rawWeft(url, await token('bob', writeAll))
    await Promise.all([alice.nextMessage(isType('welcome')), bob.nextMessage(isType('welcome'))])
    expect(running.revoke('alice')).toBe(1)
    expect((await alice.closed).code).toBe(ERROR_CODES.UNAUTHORIZED.closeCode)
    bob.sendMessage({ type: 'ping', nonce: 7 })
    expect(await bob.nextMessage(isType('pong'))).toMatchObject({ nonce: 7 })
  })

  it('refreshes the token from the client on an open socket', async () => {
    const { url } = await startRelay()
    let issued = 0
    const client = testClient(
      { url },
      {
        token: async () => {
          issued += 1
          return token('alice', writeAll, { expiresInSec: 2 })
        },
      },
    )
    const notes = client.open('notes')
    await notes.whenSynced()
    await client.refreshToken()
    expect(issued).toBe(2)
    notes.doc.getText('t').insert(0, 'still here')
    await notes.whenSaved()
  })
})

describe('read-only sessions', () => {
  it('sync and see edits, but every edit is rejected, never stored or broadcast', async () => {
    const { url, store } = await startRelay()
    const writer = testClient({ url }, { token: await token('writer', writeAll) }).open('board')
    const reader = testClient(
      { url },
      { token: await token('reader', [{ pattern: 'board', access: 'read' }]) },
    ).open('board')
    await Promise.all([writer.whenSynced(), reader.whenSynced()])
    writer.doc.getText('t').insert(0, 'from the writer')
    await writer.whenSaved()
    await untilSameState([writer.doc, reader.doc])
    expect(reader.doc.getText('t').toString()).toBe('from the writer')

    const rejected = new Promise<{ code: string }>((resolve) => reader.once('rejected', resolve))
    const reset = new Promise<{ doc: Y.Doc; previous: Y.Doc }>((resolve) =>
      reader.once('reset', resolve),
    )
    const before = reader.doc
    reader.doc.getMap('m').set('sneaky', true)
    reader.doc.getText('t').insert(0, 'typed after it ')
    expect(await rejected).toMatchObject({ code: 'FORBIDDEN' })
    // The document returns to the relay's state; the refused edits are kept aside.
    const { doc, previous } = await reset
    expect(previous).toBe(before)
    expect(reader.doc).toBe(doc)
    expect(doc.getMap('m').get('sneaky')).toBeUndefined()
    expect(doc.getText('t').toString()).toBe('from the writer')
    expect(reader.rejected.map((edit) => edit.code)).toEqual(['FORBIDDEN', 'FORBIDDEN'])
    expect(reader.pending).toBe(0)
    // The writer keeps working and never sees the refused edit; nor does the store. The reader
    // keeps receiving on its rebuilt document.
    writer.doc.getText('t').insert(0, '> ')
    await writer.whenSaved()
    await untilSameState([writer.doc, reader.doc])
    expect(reader.doc.getText('t').toString()).toBe('> from the writer')
    expect(writer.doc.getMap('m').get('sneaky')).toBeUndefined()
    const stored = await store.load('board')
    const fromDisk = new Y.Doc()
    if (stored.snapshot) Y.applyUpdate(fromDisk, stored.snapshot)
    for (const update of stored.updates) Y.applyUpdate(fromDisk, update)
    expect(fromDisk.getMap('m').get('sneaky')).toBeUndefined()
    expect(fromDisk.getText('t').toString()).toBe('> from the writer')
  })

  it('on the y-websocket dialect: a token in the query string; a read-only edit closes with 4403', async () => {
    const { url, store } = await startRelay()
    const readToken = await token('reader', [{ pattern: 'yws-doc', access: 'read' }])
    const noToken = await RawSocket.open(`${url}/yws-doc`, false)
    sockets.push(noToken)
    expect((await noToken.closed).code).toBe(ERROR_CODES.UNAUTHORIZED.closeCode)
    const elsewhere = await RawSocket.open(`${url}/other?token=${readToken}`, false)
    sockets.push(elsewhere)
    expect((await elsewhere.closed).code).toBe(ERROR_CODES.FORBIDDEN.closeCode)

    const reader = await RawSocket.open(`${url}/yws-doc?token=${readToken}`, false)
    sockets.push(reader)
    await reader.nextFrame() // the relay's sync step 1 once loaded
    // sync step 2 (message 0, sync 1) with new content
    const update = textUpdate('not allowed', 9)
    const frame = new Uint8Array([0, 2, ...varUint(update.length), ...update])
    reader.send(frame)
    expect((await reader.closed).code).toBe(ERROR_CODES.FORBIDDEN.closeCode)
    expect((await store.load('yws-doc')).updates).toEqual([])
  })
})

const varUint = (value: number): number[] => {
  const bytes: number[] = []
  while (value > 0x7f) {
    bytes.push((value & 0x7f) | 0x80)
    value >>>= 7
  }
  bytes.push(value)
  return bytes
}

describe('write limits and client ids', () => {
  it('limits a session to the root types its scope names, refusing an edit that touches another', async () => {
    const { url } = await startRelay()
    const raw = await rawWeft(
      url,
      await token('tasker', [{ pattern: 'board', access: 'write', types: ['tasks'] }]),
    )
    await raw.nextMessage(isType('welcome'))
    raw.sendMessage({ type: 'open', doc: 'board', stateVector: new Uint8Array([0]) })
    await raw.nextMessage(isType('sync-step-2', 'board'))
    const doc = new Y.Doc()
    doc.clientID = 21
    const updates: Uint8Array[] = []
    doc.on('update', (update: Uint8Array) => updates.push(update))
    doc.getMap('tasks').set('t1', 'write tests')
    doc.getMap('settings').set('theme', 'dark')
    raw.sendMessage({ type: 'update', doc: 'board', ref: 1, update: updates[0]! })
    await raw.nextMessage((message) => message.type === 'saved' && message.ref === 1)
    raw.sendMessage({ type: 'update', doc: 'board', ref: 2, update: updates[1]! })
    const refused = await raw.nextMessage(isType('rejected', 'board'))
    expect(refused).toMatchObject({ ref: 2, code: 'FORBIDDEN' })
    expect((refused as { reason: string }).reason).toContain('settings')
    // A batch mixing both is refused whole.
    const other = new Y.Doc()
    other.clientID = 22
    const batch: Uint8Array[] = []
    other.on('update', (update: Uint8Array) => batch.push(update))
    other.getMap('tasks').set('t2', 'fine')
    other.getMap('settings').set('theme', 'light')
    raw.sendMessage({ type: 'updates', doc: 'board', ref: 3, updates: batch })
    expect(await raw.nextMessage((m) => m.type === 'rejected' && m.ref === 3)).toMatchObject({
      code: 'FORBIDDEN',
    })
    const reader = testClient({ url }, { token: await token('reader', writeAll) }).open('board')
    await reader.whenSynced()
    expect(reader.doc.getMap('tasks').toJSON()).toEqual({ t1: 'write tests' })
    expect(reader.doc.getMap('settings').size).toBe(0)
  })

  it("refuses a malicious session writing under an honest session's client id; the honest one goes on", async () => {
    const { url } = await startRelay()
    const honest = testClient({ url }, { token: await token('alice', writeAll) }).open('shared')
    await honest.whenSynced()
    honest.doc.getText('t').insert(0, 'by alice')
    await honest.whenSaved()

    const mallory = await rawWeft(url, await token('mallory', writeAll))
    await mallory.nextMessage(isType('welcome'))
    mallory.sendMessage({ type: 'open', doc: 'shared', stateVector: new Uint8Array([0]) })
    const synced = await mallory.nextMessage(isType('sync-step-2', 'shared'))
    const copy = new Y.Doc()
    Y.applyUpdate(copy, (synced as { update: Uint8Array }).update)
    copy.clientID = honest.doc.clientID
    const forged: Uint8Array[] = []
    copy.on('update', (update: Uint8Array) => forged.push(update))
    copy.getText('t').insert(0, 'FORGED ')
    mallory.sendMessage({ type: 'update', doc: 'shared', ref: 1, update: forged[0]! })
    expect(await mallory.nextMessage(isType('rejected', 'shared'))).toMatchObject({
      ref: 1,
      code: 'FORBIDDEN',
    })
    honest.doc.getText('t').insert(8, ', still')
    await honest.whenSaved()
    const check = testClient({ url }, { token: await token('carol', writeAll) }).open('shared')
    await check.whenSynced()
    expect(check.doc.getText('t').toString()).toBe('by alice, still')
  })
})
