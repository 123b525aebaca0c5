/**
 * Presence from token claims: the fields the operator names are set from each session's verified
 * token, whatever the client sent — through Weft's client and a stock y-websocket provider.
 */
import { jwtAuth, type DocScope } from '@weft/server'
import { startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { awarenessEntries } from '../src/client-id-owners.js'
import { checkPresenceClaims, withClaimedPresence } from '../src/presence-claims.js'

const SECRET = 'a-test-secret-of-at-least-32-bytes!!'
const writeAll: DocScope[] = [{ pattern: '**', access: 'write' }]

const token = (sub: string, claims: Record<string, unknown>): Promise<string> =>
  new SignJWT({ weft: { docs: writeAll }, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET))

type States = Map<number, Record<string, unknown>>

/** Resolves once `check(states)` holds for `awareness` (re-checked on every change, bounded). */
const untilStates = (
  awareness: { getStates(): Map<number, unknown>; on(n: 'change', f: () => void): void },
  check: (states: States) => boolean,
): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('presence not as expected in 5 s')), 5_000)
    const test = (): void => {
      if (!check(awareness.getStates() as States)) return
      clearTimeout(timer)
      resolve()
    }
    awareness.on('change', test)
    test()
  })

const relays: TestRelay[] = []
const providers: WebsocketProvider[] = []
afterEach(async () => {
  for (const provider of providers.splice(0)) provider.destroy()
  for (const relay of relays.splice(0)) await relay.close()
})

describe('presence from token claims', () => {
  it('sets the named fields from the token for Weft and y-websocket sessions alike', async () => {
    const relay = await startTestRelay({
      auth: jwtAuth({ secret: SECRET }),
      presenceClaims: { 'user.name': 'name', 'user.team': 'org.team' },
    })
    relays.push(relay)
    const ada = testClient(relay, {
      token: await token('ada', { name: 'Ada Lovelace', org: { team: 'engines' } }),
    }).open('room')
    const viewer = testClient(relay, { token: await token('viewer', { name: 'Viewer' }) }).open(
      'room',
    )
    const stockDoc = new Y.Doc()
    const stock = new WebsocketProvider(relay.url, 'room', stockDoc, {
      WebSocketPolyfill: WebSocket as never,
      disableBc: true,
      // Mallory's token has no team: her claimed team is removed too.
      params: { token: await token('mallory', { name: 'Mallory' }) },
    })
    providers.push(stock)
    await Promise.all([ada.whenSynced(), viewer.whenSynced()])

    ada.awareness.setLocalState({ user: { name: 'Grace Hopper', team: 'admins', color: 'red' } })
    stock.awareness.setLocalState({ user: { name: 'Ada Lovelace', team: 'admins' }, cursor: 4 })
    await untilStates(viewer.awareness, (states) => {
      const seen = [...states.values()]
      return (
        seen.some((state) => (state.user as { color?: string } | undefined)?.color === 'red') &&
        seen.some((state) => state.cursor === 4)
      )
    })
    const seen = viewer.awareness.getStates() as States
    expect(seen.get(ada.awareness.clientID)).toEqual({
      user: { name: 'Ada Lovelace', team: 'engines', color: 'red' },
    })
    expect(seen.get(stockDoc.clientID)).toEqual({ user: { name: 'Mallory' }, cursor: 4 })
  })

  it('rewrites states, keeps removals and other fields, and checks its mapping', () => {
    const doc = new Y.Doc()
    const awareness = new awarenessProtocol.Awareness(doc)
    awareness.setLocalState({ user: 'not an object', x: 1 })
    const update = awarenessProtocol.encodeAwarenessUpdate(awareness, [doc.clientID])
    const rewritten = withClaimedPresence(
      update,
      awarenessEntries(update),
      { 'user.name': 'name' },
      { name: 'Ada' },
    )
    const other = new awarenessProtocol.Awareness(new Y.Doc())
    awarenessProtocol.applyAwarenessUpdate(other, rewritten, 'test')
    expect(other.getStates().get(doc.clientID)).toEqual({ user: { name: 'Ada' }, x: 1 })

    awareness.setLocalState(null)
    const removal = awarenessProtocol.encodeAwarenessUpdate(awareness, [doc.clientID])
    const kept = withClaimedPresence(removal, awarenessEntries(removal), { a: 'b' }, {})
    expect([...kept]).toEqual([...removal])

    expect(checkPresenceClaims(undefined)).toBeNull()
    for (const bad of [
      [],
      'user.name',
      { 'user..name': 'name' },
      { user: 1 },
      { a: 'b', 'a.c': 'd' },
    ])
      expect(() => checkPresenceClaims(bad)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      )
  })
})
