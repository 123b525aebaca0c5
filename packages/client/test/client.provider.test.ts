import { WeftProvider, type WeftClient } from '@weft/client'
import { startTestRelay, testClient, untilSameState, type TestRelay } from '@weft/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

let relay: TestRelay
let client: WeftClient
const providers: Array<{ destroy(): void }> = []

beforeEach(async () => {
  relay = await startTestRelay()
  client = testClient(relay)
})

afterEach(async () => {
  for (const provider of providers.splice(0)) provider.destroy()
  await relay.close()
})

const onceEvent = <T>(
  provider: WeftProvider,
  name: 'sync' | 'status',
  accept: (value: T) => boolean,
): Promise<T> =>
  new Promise((resolve) => {
    const listener = (value: T): void => {
      if (!accept(value)) return
      provider.off(name, listener as never)
      resolve(value)
    }
    provider.on(name, listener as never)
  })

describe('WeftProvider, shaped like y-websocket for editor bindings', () => {
  it('syncs an app-provided Y.Doc, emits sync and status like WebsocketProvider, and shares awareness', async () => {
    const ydoc = new Y.Doc()
    const provider = new WeftProvider(client, 'editor', ydoc)
    providers.push(provider)
    expect(provider.doc).toBe(ydoc)
    expect(provider.awareness.doc).toBe(ydoc)
    const statuses: string[] = []
    provider.on('status', ({ status }) => statuses.push(status))
    await onceEvent<boolean>(provider, 'sync', (synced) => synced)
    expect(provider.synced).toBe(true)
    expect(provider.wsconnected).toBe(true)
    expect(statuses).toContain('connected')

    const stockDoc = new Y.Doc()
    const stock = new WebsocketProvider(relay.url, 'editor', stockDoc, {
      WebSocketPolyfill: WebSocket as never,
      disableBc: true,
    })
    providers.push(stock)
    ydoc.getText('codemirror').insert(0, 'typed in an editor bound to WeftProvider')
    provider.awareness.setLocalStateField('user', { name: 'Weft editor', color: '#30bced' })
    await untilSameState([ydoc, stockDoc])
    expect(stockDoc.getText('codemirror').toString()).toBe(
      'typed in an editor bound to WeftProvider',
    )
    await new Promise<void>((resolve) => {
      const check = (): void => {
        const names = [...stock.awareness.getStates().values()].map(
          (state) => (state as { user?: { name?: string } }).user?.name,
        )
        if (names.includes('Weft editor')) resolve()
      }
      stock.awareness.on('change', check)
      check()
    })
  })

  it('disconnect() pauses this document only, keeping its edits pending; connect() delivers them', async () => {
    const paused = new WeftProvider(client, 'paused', new Y.Doc())
    const live = new WeftProvider(client, 'live', new Y.Doc())
    providers.push(paused, live)
    await Promise.all([paused.handle.whenSynced(), live.handle.whenSynced()])

    const disconnected = onceEvent<{ status: string }>(
      paused,
      'status',
      (event) => event.status === 'disconnected',
    )
    paused.disconnect()
    await disconnected
    expect(paused.shouldConnect).toBe(false)
    paused.doc.getText('t').insert(0, 'while disconnected')
    expect(paused.handle.pending).toBe(1)
    live.doc.getText('t').insert(0, 'still live')
    await live.handle.whenSaved()

    paused.connect()
    await paused.handle.whenSaved()
    expect(paused.handle.pending).toBe(0)
    const check = new WeftProvider(testClient(relay), 'paused', new Y.Doc())
    providers.push(check)
    await check.handle.whenSynced()
    expect(check.doc.getText('t').toString()).toBe('while disconnected')
  })
})
