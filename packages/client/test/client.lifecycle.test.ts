/**
 * App lifecycle: in the background the client stops its heartbeats, closes its socket after the
 * keep-alive and does not reconnect, while edits wait in the durable outbox; in the foreground
 * it reconnects at once. On the real relay and a LevelDB local store.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  followAppState,
  netInfoHints,
  type NetInfoStateLike,
  type NetworkHint,
  type SyncStatus,
} from '@weft/client'
import { LevelLocalStore } from '@weft/client/level'
import { startTestRelay, testClient, until, type TestRelay } from '@weft/testkit'
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest'

let dir: string
let relay: TestRelay
/** Sockets the relay accepted and frames it received. */
const seen = { sockets: 0, frames: 0 }

beforeEach(async () => {
  const made = await mkdtemp(join(tmpdir(), 'weft-lifecycle-'))
  onTestFinished(() => rm(made, { recursive: true, force: true }))
  dir = made
  seen.sockets = seen.frames = 0
  relay = await startTestRelay({
    metrics: { socketOpened: () => (seen.sockets += 1), frameIn: () => (seen.frames += 1) },
  })
})

afterEach(async () => {
  await relay.close()
})

const openStore = async (): Promise<LevelLocalStore> => {
  const store = await LevelLocalStore.open({ location: dir })
  onTestFinished(() => store.close())
  return store
}

/** Resolves with the first status `client` reports that `matches`. */
const statusWhere = (
  client: { on(event: 'status', listener: (status: SyncStatus) => void): void },
  matches: (status: SyncStatus) => boolean,
): Promise<SyncStatus> =>
  new Promise((resolve) => client.on('status', (status) => matches(status) && resolve(status)))

/** Waits `ms`: only to show that nothing happens meanwhile. */
const quietFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('app lifecycle', () => {
  it('in the background: no heartbeats, the socket closed after the keep-alive, no reconnect', async () => {
    const client = testClient(relay, {
      store: await openStore(),
      heartbeatIntervalMs: 20,
      backgroundKeepAliveMs: 300,
    })
    const handle = client.open('notes')
    await handle.whenSynced()
    expect(seen.sockets).toBe(1)
    // Heartbeats flow in the foreground.
    const framesBefore = seen.frames
    await expect.poll(() => seen.frames).toBeGreaterThanOrEqual(framesBefore + 3)

    const offline = statusWhere(client, (status) => status.state === 'offline')
    client.setLifecycle('background')
    expect(client.lifecycle).toBe('background')
    const framesInBackground = seen.frames
    const backgroundAtMs = Date.now()
    expect(await offline).toEqual({ state: 'offline', reason: 'the app is in the background' })
    // Kept open for the keep-alive, silent meanwhile.
    expect(Date.now() - backgroundAtMs).toBeGreaterThanOrEqual(250)
    expect(seen.frames).toBe(framesInBackground)
    // Edits made in the background wait in the outbox, stored; nothing reconnects (the test
    // client's backoff would retry within milliseconds).
    handle.doc.getText('t').insert(0, 'typed in the background')
    expect(handle.pending).toBe(1)
    await handle.whenStored()
    await quietFor(300)
    expect(seen.sockets).toBe(1)
    expect(client.status.state).toBe('offline')

    const foregroundAtMs = Date.now()
    client.setLifecycle('foreground')
    await handle.whenSaved()
    expect(seen.sockets).toBe(2)
    expect(Date.now() - foregroundAtMs).toBeLessThan(5_000)
    expect(await relay.relay.documents.json('notes')).toMatchObject({
      content: { t: 'typed in the background' },
    })
  })

  it('keeps the edits of an app killed in the background, and saves them on the next start', async () => {
    const store = await openStore()
    const client = testClient(relay, { store, backgroundKeepAliveMs: 0 })
    const handle = client.open('notes')
    await handle.whenSynced()
    client.setLifecycle('background')
    await until(client, 'status', () => client.status.state === 'offline')
    handle.doc.getArray('edits').push(['one', 'two'])
    await handle.whenStored()
    await client.close()

    const next = testClient(relay, { store })
    const reopened = next.open('notes')
    await reopened.whenLoaded()
    expect(reopened.pending).toBe(1)
    await reopened.whenSaved()
    const json = await relay.relay.documents.json('notes')
    expect(json).toMatchObject({ content: { edits: ['one', 'two'] } })
  })

  it('comes back to the foreground synced again, quickly, cycle after cycle', async () => {
    const client = testClient(relay, { backgroundKeepAliveMs: 0 })
    const handle = client.open('notes')
    await handle.whenSynced()
    const text = handle.doc.getText('t')
    const times: number[] = []
    for (let cycle = 0; cycle < 20; cycle++) {
      client.setLifecycle('background')
      await until(client, 'status', () => client.status.state === 'offline')
      text.insert(text.length, `${cycle} `)
      const startMs = performance.now()
      client.setLifecycle('foreground')
      await handle.whenSaved()
      await until(client, 'status', () => client.status.state === 'synced')
      times.push(performance.now() - startMs)
    }
    times.sort((a, b) => a - b)
    const p95 = times[Math.ceil(0.95 * times.length) - 1] as number
    console.log(
      `foreground to synced and saved: p50 ${times[10]?.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms`,
    )
    expect(seen.sockets).toBe(21)
    expect(text.toString()).toBe(Array.from({ length: 20 }, (_, n) => `${n} `).join(''))
  })

  it('stays offline in the foreground while the device is, and connects when it is online', async () => {
    const listeners = new Set<(hint: NetworkHint) => void>()
    const hint = (value: NetworkHint): void => listeners.forEach((listener) => listener(value))
    const client = testClient(relay, {
      backgroundKeepAliveMs: 0,
      networkHints: {
        subscribe: (listener) => {
          listeners.add(listener)
          return () => listeners.delete(listener)
        },
      },
    })
    const handle = client.open('notes')
    await handle.whenSynced()
    client.setLifecycle('background')
    await until(client, 'status', () => client.status.state === 'offline')
    hint('offline')
    // Online again while in the background: the app has not come back, so neither does the socket.
    hint('online')
    hint('offline')
    client.setLifecycle('foreground')
    await quietFor(200)
    expect(seen.sockets).toBe(1)
    expect(client.status).toMatchObject({ state: 'offline' })
    hint('online')
    await handle.whenSynced()
    expect(seen.sockets).toBe(2)
  })

  it('refuses a lifecycle it does not know, and a negative keep-alive', () => {
    const client = testClient(relay, { autoConnect: false })
    expect(() => client.setLifecycle('asleep' as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
    expect(() => testClient(relay, { backgroundKeepAliveMs: -1 })).toThrow(
      /backgroundKeepAliveMs must be 0 or a positive number/,
    )
  })
})

describe('React Native adapters', () => {
  it("followAppState: 'active' is the foreground, 'background' the background, 'inactive' neither", () => {
    let listener: ((state: string) => void) | null = null
    let removed = false
    const appState = {
      addEventListener: (_type: 'change', next: (state: string) => void) => {
        listener = next
        return { remove: () => (removed = true) }
      },
    }
    const told: string[] = []
    const stop = followAppState({ setLifecycle: (state) => told.push(state) }, appState)
    for (const state of ['background', 'inactive', 'active', 'inactive', 'background'])
      listener!(state)
    expect(told).toEqual(['background', 'foreground', 'background'])
    stop()
    expect(removed).toBe(true)
  })

  it('netInfoHints: offline without a connection or internet, online with both, once per change', () => {
    let listener: ((state: NetInfoStateLike) => void) | null = null
    let unsubscribed = false
    const hints = netInfoHints({
      addEventListener: (next) => {
        listener = next
        return () => (unsubscribed = true)
      },
    })
    const seenHints: NetworkHint[] = []
    const stop = hints.subscribe((hint) => seenHints.push(hint))
    const states: NetInfoStateLike[] = [
      { isConnected: true, isInternetReachable: true },
      { isConnected: true, isInternetReachable: null },
      { isConnected: true, isInternetReachable: false },
      { isConnected: null },
      { isConnected: false, isInternetReachable: false },
      { isConnected: true },
    ]
    for (const state of states) listener!(state)
    expect(seenHints).toEqual(['online', 'offline', 'online'])
    stop()
    expect(unsubscribed).toBe(true)
  })
})
