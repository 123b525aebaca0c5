/**
 * Client-id ownership kept with the document: a session cannot write under another session's
 * Yjs client id after the document unloaded, nor after the relay restarted on the same store.
 */
import type { WeftMessage } from '@weft/protocol'
import { jwtAuth, type DocScope } from '@weft/server'
import { RawSocket, startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { readClientIdBindings } from '../src/client-id-owners.js'

const SECRET = 'a-test-secret-of-at-least-32-bytes!!'
const auth = jwtAuth({ secret: SECRET, clockToleranceSec: 0 })
const writeAll: DocScope[] = [{ pattern: '**', access: 'write' }]

const token = (sub: string): Promise<string> =>
  new SignJWT({ weft: { docs: writeAll } })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET))

const isType =
  <T extends WeftMessage['type']>(type: T) =>
  (message: WeftMessage): boolean =>
    message.type === type

const relays: TestRelay[] = []
const sockets: RawSocket[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close()
  for (const relay of relays.splice(0)) await relay.close()
})

/** Resolves once `relay` has no room loaded (rooms unload on a timer). */
const untilUnloaded = async (relay: TestRelay): Promise<void> => {
  for (let attempt = 0; attempt < 200 && relay.relay.roomCount > 0; attempt++)
    await new Promise((resolve) => setTimeout(resolve, 10))
  expect(relay.relay.roomCount).toBe(0)
}

/** Mallory opens `doc` and sends an edit under client id `id`; resolves with the answer. */
const forgeUnder = async (url: string, doc: string, id: number): Promise<WeftMessage> => {
  const mallory = await RawSocket.hello(url, await token('mallory'))
  sockets.push(mallory)
  await mallory.nextMessage(isType('welcome'))
  mallory.sendMessage({ type: 'open', doc, stateVector: new Uint8Array([0]) })
  const synced = (await mallory.nextMessage(isType('sync-step-2'))) as { update: Uint8Array }
  const copy = new Y.Doc()
  Y.applyUpdate(copy, synced.update)
  copy.clientID = id
  const forged: Uint8Array[] = []
  copy.on('update', (update: Uint8Array) => forged.push(update))
  copy.getText('t').insert(0, 'FORGED ')
  mallory.sendMessage({ type: 'update', doc, ref: 1, update: forged[0]! })
  // The answer to ref 1: refused, or saved (the relay also reports what is saved on open).
  return mallory.nextMessage(
    (message) =>
      (message.type === 'rejected' || message.type === 'saved') &&
      (message as { ref?: number }).ref === 1,
  )
}

describe('client-id ownership kept with the document', () => {
  it('refuses a write under another session’s client id after an unload and after a restart', async () => {
    const first = await startTestRelay({ auth, unloadGraceMs: 20 })
    relays.push(first)
    const client = testClient(first, { token: await token('alice') })
    const alice = client.open('shared')
    await alice.whenSynced()
    alice.doc.getText('t').insert(0, 'by alice')
    await alice.whenSaved()
    const aliceId = alice.doc.clientID
    await client.close()
    await untilUnloaded(first)
    expect(await readClientIdBindings(first.store, 'shared')).toEqual([
      { id: aliceId, owner: 'alice' },
    ])

    // Unloaded: the binding comes back with the document.
    expect(await forgeUnder(first.url, 'shared', aliceId)).toMatchObject({
      type: 'rejected',
      code: 'FORBIDDEN',
    })

    // Restarted on the same LevelDB directory.
    for (const socket of sockets.splice(0)) socket.close()
    relays.splice(0)
    await first.close({ keepData: true })
    const second = await startTestRelay({ auth, dataDir: first.dataDir })
    relays.push(second)
    expect(await forgeUnder(second.url, 'shared', aliceId)).toMatchObject({
      type: 'rejected',
      code: 'FORBIDDEN',
    })
    // Mallory's own client id is hers to use, and the text is alice's alone.
    const checker = testClient(second, { token: await token('carol') })
    const check = checker.open('shared')
    await check.whenSynced()
    expect(check.doc.getText('t').toString()).toBe('by alice')

    // Deleting the document forgets its bindings.
    await checker.close()
    await second.relay.admin.delete('shared')
    expect(await readClientIdBindings(second.store, 'shared')).toEqual([])
  })
})
