import type { NetworkHint, SyncStatus } from '@weft/client'
import {
  nextEvent,
  startScriptedRelay,
  startTestRelay,
  testClient,
  until,
  type ScriptedRelay,
  type TestRelay,
} from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

const cleanups: Array<() => Promise<void> | void> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A scripted relay, closed after the test. */
const scripted = async (
  onMessage: Parameters<typeof startScriptedRelay>[0],
): Promise<ScriptedRelay> => {
  const relay = await startScriptedRelay(onMessage)
  cleanups.push(() => relay.close())
  return relay
}

describe('client close-code policies', () => {
  it('asks the token function again after UNAUTHORIZED (4401), then reconnects with the new token', async () => {
    const tokens: string[] = []
    const relay = await scripted((message, client) => {
      if (message.type !== 'hello') return
      tokens.push(message.token)
      if (message.token === 'expired') {
        client.send({ type: 'error', doc: '', code: 'UNAUTHORIZED', reason: 'token expired' })
        client.socket.close(4401, 'token expired')
      } else {
        client.welcome()
      }
    })
    let issued = 0
    const client = testClient(relay, {
      token: async () => (issued++ === 0 ? 'expired' : 'fresh'),
    })
    await nextEvent(client, 'status', (status: SyncStatus) => status.state === 'synced')
    expect(tokens).toEqual(['expired', 'fresh'])
  })

  it('puts only the forbidden document in error (4403); the others keep syncing', async () => {
    const relay = await scripted((message, client) => {
      if (message.type === 'hello') client.welcome()
      if (message.type !== 'open') return
      if (message.doc === 'secret') {
        client.send({ type: 'error', doc: 'secret', code: 'FORBIDDEN', reason: 'not yours' })
      } else {
        client.serveEmpty(message.doc)
      }
    })
    const client = testClient(relay)
    const secret = client.open('secret')
    const open = client.open('public')
    await open.whenSynced()
    await until(secret, 'status', () => secret.status.state === 'error')
    expect(secret.status).toMatchObject({ state: 'error', code: 'FORBIDDEN', reason: 'not yours' })
    expect(open.status.state).toBe('synced')
    expect(relay.connections()).toBe(1)
  })

  /**
   * A relay that answers the first edit of the first open with `firstAnswer`'s errors and
   * acknowledges edits after that; counts the opens. The client writes one edit and waits for it.
   */
  const editThroughClosedDocument = async (
    firstAnswer: Array<{ code: 'STORAGE_FAILED' | 'DOC_NOT_OPEN'; reason: string }>,
    /** Errors that arrive just after the client's second `open` (answers sent before it). */
    late: Array<{ code: 'DOC_NOT_OPEN'; reason: string }> = [],
  ): Promise<{ opens: number; codes: string[]; state: string }> => {
    let opens = 0
    const relay = await scripted((message, client) => {
      if (message.type === 'hello') client.welcome()
      if (message.type === 'open') {
        opens += 1
        if (opens === 2)
          for (const error of late) client.send({ type: 'error', doc: 'doc', ...error })
        client.serveEmpty(message.doc)
      }
      if ((message.type !== 'update' && message.type !== 'sync-step-2') || message.ref === 0) return
      if (opens === 1)
        for (const error of firstAnswer) client.send({ type: 'error', doc: 'doc', ...error })
      else
        client.send({
          type: 'saved',
          doc: 'doc',
          ref: message.ref,
          stateVector: new Uint8Array([0]),
        })
    })
    const client = testClient(relay)
    const handle = client.open('doc')
    await handle.whenSynced()
    const codes: string[] = []
    handle.on('error', (error) => codes.push(error.code))
    handle.doc.getText('t').insert(0, 'kept')
    await handle.whenSaved()
    return { opens, codes, state: handle.status.state }
  }

  it('reopens after the relay closed a document, ignoring DOC_NOT_OPEN answers to frames sent before it knew', async () => {
    // The document's storage failed; an answer to a frame sent before the client knew arrives
    // after its reopen went out: it must not trigger a second reopen.
    const result = await editThroughClosedDocument(
      [{ code: 'STORAGE_FAILED', reason: 'disk full' }],
      [{ code: 'DOC_NOT_OPEN', reason: 'not open' }],
    )
    expect(result).toEqual({ opens: 2, codes: ['STORAGE_FAILED'], state: 'synced' })
  })

  it('reopens a document the relay says is not open while the client believed it open', async () => {
    const result = await editThroughClosedDocument([{ code: 'DOC_NOT_OPEN', reason: 'x' }])
    expect(result).toEqual({ opens: 2, codes: ['DOC_NOT_OPEN'], state: 'synced' })
  })

  it('waits longer after RATE_LIMITED (4429)', async () => {
    const relay = await scripted((message, client) => {
      if (message.type !== 'hello') return
      client.send({ type: 'error', doc: '', code: 'RATE_LIMITED', reason: 'slow down' })
      client.socket.close(4429, 'slow down')
    })
    const slowRetryMs = 400
    const client = testClient(relay, { backoff: { slowRetryMs }, random: () => 0 })
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
    const client = testClient(relay, {
      // A huge backoff: only the hint can bring the connection back within the test.
      backoff: { initialMs: 60_000, maxMs: 60_000, slowRetryMs: 60_000, stableMs: 1000 },
      random: () => 0.999,
      networkHints: {
        subscribe: (listener) => {
          listeners.add(listener)
          return () => listeners.delete(listener)
        },
      },
    })
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
    const relay = await scripted((message, client) => {
      if (message.type === 'hello') client.welcome()
      if (message.type !== 'open') return
      opens.push(Date.now())
      if (opens.length === 1) {
        client.serveEmpty(message.doc)
        // The first update is "lost": only the second, which depends on it, arrives.
        client.send({ type: 'update', doc: message.doc, ref: 0, update: updates[1]! })
      } else {
        const missing = Y.encodeStateAsUpdate(source, message.stateVector)
        client.send({ type: 'sync-step-2', doc: message.doc, ref: 0, update: missing })
      }
    })
    const client = testClient(relay, { repairAfterMs: 50 })
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
    const relay = await scripted((message, client) => {
      if (message.type === 'hello') client.welcome()
      if (message.type === 'open') {
        client.serveEmpty(message.doc)
        if (client.connection === 2) {
          // What the first connection delivered is on disk: say so with the durable state vector.
          client.send({
            type: 'saved',
            doc: message.doc,
            ref: 0,
            stateVector: Y.encodeStateVector(relayDoc),
          })
        }
      }
      if (message.type === 'update' && client.connection === 1) {
        Y.applyUpdate(relayDoc, message.update)
        client.socket.terminate() // the edit arrived, its acknowledgement never leaves
      }
    })
    const client = testClient(relay)
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
    const relay = await scripted((message, client) => {
      if (message.type === 'hello') client.welcome()
      if (message.type === 'open') client.serveEmpty(message.doc)
      if (message.type === 'updates') {
        batches.push([message.ref, message.updates.length])
        client.send({
          type: 'rejected',
          doc: message.doc,
          ref: message.ref,
          code: 'BAD_UPDATE',
          reason: 'no',
        })
      }
    })
    const client = testClient(relay)
    const handle = client.open('doc')
    await handle.whenSynced()
    const saved = handle.whenSaved()
    for (const char of 'abc') handle.doc.getText('t').insert(0, char)
    const whenSaved = handle.whenSaved()
    await saved
    await expect(whenSaved).rejects.toMatchObject({ code: 'BAD_UPDATE' })
    expect(batches).toEqual([[3, 3]])
    expect(handle.rejected.map((edit) => edit.ref)).toEqual([1, 2, 3])
    expect(handle.pending).toBe(0)
  })
})
