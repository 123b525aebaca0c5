import type { WeftClient } from '@weft/client'
import {
  expectConverged,
  startTestRelay,
  testClient,
  untilSameState,
  type TestRelay,
} from '@weft/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

let relay: TestRelay
let weft: WeftClient
const providers: WebsocketProvider[] = []

const stockProvider = (name: string, doc: Y.Doc): WebsocketProvider => {
  // disableBc: in one process, providers would otherwise talk over BroadcastChannel, not the relay.
  const provider = new WebsocketProvider(relay.url, name, doc, {
    WebSocketPolyfill: WebSocket as never,
    disableBc: true,
  })
  providers.push(provider)
  return provider
}

const untilProviderSynced = (provider: WebsocketProvider): Promise<void> =>
  new Promise((resolve) => {
    if (provider.synced) resolve()
    else provider.once('sync', () => resolve())
  })

const untilAwareness = (
  awareness: {
    getStates(): Map<number, unknown>
    on(name: 'change', f: () => void): void
    off(name: 'change', f: () => void): void
  },
  check: (states: Map<number, unknown>) => boolean,
): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`awareness: ${JSON.stringify([...awareness.getStates()])}`)),
      10_000,
    )
    const listener = (): void => {
      if (!check(awareness.getStates())) return
      clearTimeout(timer)
      awareness.off('change', listener)
      resolve()
    }
    awareness.on('change', listener)
    listener()
  })

beforeEach(async () => {
  relay = await startTestRelay()
  weft = testClient(relay)
})

afterEach(async () => {
  for (const provider of providers.splice(0)) provider.destroy()
  await relay.close()
})

describe('a stock y-websocket provider and a Weft client on one document', () => {
  it('converge on text in both directions', async () => {
    const stockDoc = new Y.Doc()
    const provider = stockProvider('notes', stockDoc)
    const handle = weft.open('notes')
    await Promise.all([untilProviderSynced(provider), handle.whenSynced()])

    stockDoc.getText('t').insert(0, 'from y-websocket. ')
    handle.doc.getText('t').insert(0, 'from Weft. ')
    await handle.whenSaved()
    await untilSameState([stockDoc, handle.doc])
    expectConverged([stockDoc, handle.doc])
    expect(stockDoc.getText('t').toString()).toContain('from y-websocket. ')
    expect(stockDoc.getText('t').toString()).toContain('from Weft. ')
  })

  it('stores the edits of a y-websocket client durably', async () => {
    const stockDoc = new Y.Doc()
    const provider = stockProvider('kept', stockDoc)
    await untilProviderSynced(provider)
    stockDoc.getMap('m').set('written-by', 'y-websocket')
    const handle = weft.open('kept')
    await handle.whenSynced()
    await untilSameState([stockDoc, handle.doc])
    await relay.relay.close()
    // Everything the relay applied is durable once close() resolves.
    const stored = await relay.store.load('kept')
    const doc = new Y.Doc()
    if (stored.snapshot) Y.applyUpdate(doc, stored.snapshot)
    for (const update of stored.updates) Y.applyUpdate(doc, update)
    expect(doc.getMap('m').get('written-by')).toBe('y-websocket')
  })

  it('see each other in awareness, and a departure is withdrawn', async () => {
    const stockDoc = new Y.Doc()
    const provider = stockProvider('presence', stockDoc)
    const handle = weft.open('presence')
    await Promise.all([untilProviderSynced(provider), handle.whenSynced()])

    provider.awareness.setLocalStateField('user', { name: 'Stock' })
    handle.awareness.setLocalStateField('user', { name: 'Weft' })
    const named = (name: string) => (states: Map<number, unknown>) =>
      [...states.values()].some(
        (state) => (state as { user?: { name?: string } }).user?.name === name,
      )
    await untilAwareness(handle.awareness, named('Stock'))
    await untilAwareness(provider.awareness, named('Weft'))

    await handle.close()
    await untilAwareness(provider.awareness, (states) => !named('Weft')(states))
  })
})
