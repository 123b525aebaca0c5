import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createClient, type NetworkHint, type SyncStatus, type WeftClient } from '@weft/client'
import { decodeMessage, encodeMessage, type WeftMessage } from '@weft/protocol'
import { nextEvent, startTestRelay, until, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer, type WebSocket as ServerSocket } from 'ws'
import * as Y from 'yjs'

const fastBackoff = { initialMs: 20, maxMs: 100, slowRetryMs: 100, stableMs: 1000 }
const cleanups: Array<() => Promise<void> | void> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A scripted stand-in for a relay: `onMessage` answers each decoded client message. */
const fakeRelay = async (
  onMessage: (socket: ServerSocket, message: WeftMessage, connection: number) => void,
): Promise<{ url: string; connections: () => number }> => {
  const server = createServer()
  const wss = new WebSocketServer({ server, handleProtocols: () => 'weft' })
  let connections = 0
  wss.on('connection', (socket) => {
    const connection = ++connections
    socket.on('message', (data: Buffer) =>
      onMessage(socket, decodeMessage(new Uint8Array(data)), connection),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(async () => {
    wss.close()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
  }
}

const welcome = (socket: ServerSocket): void =>
  socket.send(
    encodeMessage({
      type: 'welcome',
      version: 1,
      connectionId: 'c',
      maxMessageBytes: 1 << 20,
      server: 'fake',
    }),
  )

const serveDoc = (socket: ServerSocket, doc: string): void => {
  socket.send(
    encodeMessage({ type: 'sync-step-2', doc, ref: 0, update: Y.encodeStateAsUpdate(new Y.Doc()) }),
  )
  socket.send(encodeMessage({ type: 'sync-step-1', doc, stateVector: new Uint8Array([0]) }))
}

const track = (client: WeftClient): WeftClient => {
  cleanups.push(() => client.close())
  return client
}

describe('client close-code policies', () => {
  it('asks the token function again after UNAUTHORIZED (4401), then reconnects with the new token', async () => {
    const tokens: string[] = []
    const relay = await fakeRelay((socket, message) => {
      if (message.type !== 'hello') return
      tokens.push(message.token)
      if (message.token === 'expired') {
        socket.send(
          encodeMessage({ type: 'error', doc: '', code: 'UNAUTHORIZED', reason: 'token expired' }),
        )
        socket.close(4401, 'token expired')
      } else {
        welcome(socket)
      }
    })
    let issued = 0
    const client = track(
      createClient({
        url: relay.url,
        WebSocket: WebSocket as never,
        backoff: fastBackoff,
        token: async () => (issued++ === 0 ? 'expired' : 'fresh'),
      }),
    )
    await nextEvent(client, 'status', (status: SyncStatus) => status.state === 'synced')
    expect(tokens).toEqual(['expired', 'fresh'])
  })

  it('puts only the forbidden document in error (4403); the others keep syncing', async () => {
    const relay = await fakeRelay((socket, message) => {
      if (message.type === 'hello') welcome(socket)
      if (message.type !== 'open') return
      if (message.doc === 'secret') {
        socket.send(
          encodeMessage({ type: 'error', doc: 'secret', code: 'FORBIDDEN', reason: 'not yours' }),
        )
      } else {
        serveDoc(socket, message.doc)
      }
    })
    const client = track(
      createClient({ url: relay.url, WebSocket: WebSocket as never, backoff: fastBackoff }),
    )
    const secret = client.open('secret')
    const open = client.open('public')
    await open.whenSynced()
    await until(secret, 'status', () => secret.status.state === 'error')
    expect(secret.status).toMatchObject({ state: 'error', code: 'FORBIDDEN', reason: 'not yours' })
    expect(open.status.state).toBe('synced')
    expect(relay.connections()).toBe(1)
  })

  it('waits longer after RATE_LIMITED (4429)', async () => {
    const relay = await fakeRelay((socket, message) => {
      if (message.type !== 'hello') return
      socket.send(
        encodeMessage({ type: 'error', doc: '', code: 'RATE_LIMITED', reason: 'slow down' }),
      )
      socket.close(4429, 'slow down')
    })
    const slowRetryMs = 400
    const client = track(
      createClient({
        url: relay.url,
        WebSocket: WebSocket as never,
        backoff: { ...fastBackoff, slowRetryMs },
        random: () => 0,
      }),
    )
    await nextEvent(
      client,
      'status',
      (status: SyncStatus) => status.state === 'connecting' && status.attempt === 1,
    )
    const started = Date.now()
    await nextEvent(client, 'status', (status: SyncStatus) => status.state === 'authenticating')
    expect(Date.now() - started).toBeGreaterThanOrEqual(slowRetryMs - 20)
  })
})

describe('network hints', () => {
  it('stops retrying while the device is offline and reconnects at once when it is back', async () => {
    let relay: TestRelay | null = await startTestRelay()
    const listeners = new Set<(hint: NetworkHint) => void>()
    const hint = (value: NetworkHint): void => listeners.forEach((listener) => listener(value))
    const client = track(
      createClient({
        url: relay.url,
        WebSocket: WebSocket as never,
        // A huge backoff: only the hint can bring the connection back within the test.
        backoff: { initialMs: 60_000, maxMs: 60_000, slowRetryMs: 60_000, stableMs: 1000 },
        random: () => 0.999,
        networkHints: {
          subscribe: (listener) => {
            listeners.add(listener)
            return () => listeners.delete(listener)
          },
        },
      }),
    )
    cleanups.push(() => relay?.close())
    const handle = client.open('doc')
    await handle.whenSynced()

    hint('offline')
    expect(client.status).toMatchObject({ state: 'offline', reason: 'the device is offline' })
    handle.doc.getText('t').insert(0, 'written offline')
    expect(handle.pending).toBe(1)

    hint('online')
    await handle.whenSaved()
    expect(client.status.state).toBe('synced')
    relay = null
  })
})

describe('repair of lost updates', () => {
  it('notices structs waiting for a lost dependency and asks the relay for a fresh sync', async () => {
    const source = new Y.Doc()
    const updates: Uint8Array[] = []
    source.on('update', (update: Uint8Array) => updates.push(update))
    source.getText('t').insert(0, 'lost ')
    source.getText('t').insert(5, 'and found')
    const opens: number[] = []
    const relay = await fakeRelay((socket, message) => {
      if (message.type === 'hello') welcome(socket)
      if (message.type !== 'open') return
      opens.push(Date.now())
      if (opens.length === 1) {
        serveDoc(socket, message.doc)
        // The first update is "lost": only the second, which depends on it, arrives.
        socket.send(
          encodeMessage({ type: 'update', doc: message.doc, ref: 0, update: updates[1]! }),
        )
      } else {
        const missing = Y.encodeStateAsUpdate(source, message.stateVector)
        socket.send(
          encodeMessage({ type: 'sync-step-2', doc: message.doc, ref: 0, update: missing }),
        )
      }
    })
    const client = track(
      createClient({
        url: relay.url,
        WebSocket: WebSocket as never,
        backoff: fastBackoff,
        repairAfterMs: 50,
      }),
    )
    const handle = client.open('doc')
    await handle.whenSynced()
    await until(
      handle.doc as never,
      'update',
      () => handle.doc.getText('t').toString() === 'lost and found',
    )
    expect(opens).toHaveLength(2)
    expect(handle.doc.store.pendingStructs).toBeNull()
  })
})

describe('acknowledgements lost with a connection', () => {
  it('are recovered from the durable state vector the relay sends when the document opens again', async () => {
    const relayDoc = new Y.Doc()
    const relay = await fakeRelay((socket, message, connection) => {
      if (message.type === 'hello') welcome(socket)
      if (message.type === 'open') {
        serveDoc(socket, message.doc)
        if (connection === 2) {
          // What the first connection delivered is on disk: say so with the durable state vector.
          socket.send(
            encodeMessage({
              type: 'saved',
              doc: message.doc,
              ref: 0,
              stateVector: Y.encodeStateVector(relayDoc),
            }),
          )
        }
      }
      if (message.type === 'update' && connection === 1) {
        Y.applyUpdate(relayDoc, message.update)
        socket.terminate() // the edit arrived, its acknowledgement never leaves
      }
    })
    const client = track(
      createClient({ url: relay.url, WebSocket: WebSocket as never, backoff: fastBackoff }),
    )
    const handle = client.open('doc')
    await handle.whenSynced()
    handle.doc.getText('t').insert(0, 'delivered, never acknowledged')
    await until(handle, 'pending', () => handle.pending === 0)
    expect(relay.connections()).toBe(2)
    expect(handle.lastSavedAt).not.toBeNull()
  })
})

describe('refused batches', () => {
  it('refuse every edit of a batch whose ref the relay rejects, not only the last', async () => {
    const batches: number[][] = []
    const relay = await fakeRelay((socket, message) => {
      if (message.type === 'hello') welcome(socket)
      if (message.type === 'open') serveDoc(socket, message.doc)
      if (message.type === 'updates') {
        batches.push([message.ref, message.updates.length])
        socket.send(
          encodeMessage({
            type: 'rejected',
            doc: message.doc,
            ref: message.ref,
            code: 'BAD_UPDATE',
            reason: 'no',
          }),
        )
      }
    })
    const client = track(
      createClient({ url: relay.url, WebSocket: WebSocket as never, backoff: fastBackoff }),
    )
    const handle = client.open('doc')
    await handle.whenSynced()
    const saved = handle.whenSaved()
    for (const char of 'abc') handle.doc.getText('t').insert(0, char)
    const whenSaved = handle.whenSaved()
    await saved
    await expect(whenSaved).rejects.toMatchObject({ code: 'BAD_UPDATE' })
    expect(batches).toEqual([[3, 3]])
    expect(handle.refused.map((edit) => edit.ref)).toEqual([1, 2, 3])
    expect(handle.pending).toBe(0)
  })
})
