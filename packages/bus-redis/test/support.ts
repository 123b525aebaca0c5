/** Two relays sharing one store and one Redis, for the tests of this package. */
import { MemoryStore, type BusMessage, type DocStore, type RelayBus } from '@weft/server'
import { startTestRelay, type TestRelay, type TestRelayOptions } from '@weft/testkit'
import { onTestFinished } from 'vitest'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { RedisBus } from '../src/index.js'

/** Relays A and B over one MemoryStore (standing in for the shared database) and one Redis. */
export interface RelayPair {
  readonly a: TestRelay
  readonly b: TestRelay
  readonly busA: RedisBus
  readonly busB: RedisBus
  readonly store: DocStore
}

/** A bus that quickly notices a frozen or dead Redis and reconnects fast. */
export const testBus = (url: string): RedisBus =>
  new RedisBus({ url, healthIntervalMs: 200, healthTimeoutMs: 500, maxBackoffMs: 200 })

/**
 * Starts relays A and B (A's bus optionally wrapped, to drop messages); both are closed, with
 * their buses and the store, once the test has finished.
 */
export const startRelayPair = async (
  redisUrl: string,
  options: { wrapA?: (bus: RelayBus) => RelayBus; relay?: TestRelayOptions } = {},
): Promise<RelayPair> => {
  const store = new MemoryStore()
  const busA = testBus(redisUrl)
  const busB = testBus(redisUrl)
  await Promise.all([busA.whenUp(), busB.whenUp()])
  const shared = { ...options.relay, store, keepStore: true }
  const a = await startTestRelay({ ...shared, bus: options.wrapA?.(busA) ?? busA })
  const b = await startTestRelay({ ...shared, bus: busB })
  onTestFinished(async () => {
    await Promise.all([a.close(), b.close()])
    await Promise.all([busA.close(), busB.close()])
    await store.close()
  })
  return { a, b, busA, busB, store }
}

/** A bus that passes everything through except the update publishes `drop` picks. */
export const droppingBus = (bus: RelayBus, drop: (message: BusMessage) => boolean): RelayBus => ({
  get id() {
    return bus.id
  },
  get up() {
    return bus.up
  },
  listen: (listener) => bus.listen(listener),
  subscribe: (doc) => bus.subscribe(doc),
  unsubscribe: (doc) => bus.unsubscribe(doc),
  publish: (message) => {
    if (!drop(message)) bus.publish(message)
  },
})

/** A stock y-websocket provider of `relay`, destroyed once the test has finished. */
export const stockProvider = (relay: TestRelay, name: string, doc: Y.Doc): WebsocketProvider => {
  // disableBc: in one process, providers would otherwise talk over BroadcastChannel, not the relay.
  const provider = new WebsocketProvider(relay.url, name, doc, {
    WebSocketPolyfill: WebSocket as never,
    disableBc: true,
  })
  onTestFinished(() => provider.destroy())
  return provider
}

/** The document as the shared store holds it. */
export const storedDoc = async (store: DocStore, name: string): Promise<Y.Doc> => {
  const stored = await store.load(name)
  const doc = new Y.Doc()
  if (stored.snapshot !== null) Y.applyUpdate(doc, stored.snapshot)
  for (const update of stored.updates) Y.applyUpdate(doc, update)
  return doc
}

/** Resolves once `bus` reports `up` (at once if it already does); rejects after `timeoutMs`. */
export const untilBus = (bus: RelayBus, up: boolean, timeoutMs = 10_000): Promise<void> =>
  new Promise((resolve, reject) => {
    if (bus.up === up) return resolve()
    const timer = setTimeout(() => {
      detach()
      reject(new Error(`the bus was not ${up ? 'up' : 'down'} within ${timeoutMs} ms`))
    }, timeoutMs)
    const detach = bus.listen({
      message: () => {},
      state: (now) => {
        if (now !== up) return
        clearTimeout(timer)
        detach()
        resolve()
      },
    })
  })

/** Resolves once the provider has synced with its relay. */
export const untilProviderSynced = (provider: WebsocketProvider): Promise<void> =>
  new Promise((resolve) => {
    if (provider.synced) resolve()
    else provider.once('sync', () => resolve())
  })

/** Resolves once `check` holds for the awareness states; rejects after `timeoutMs`. */
export const untilAwareness = (
  awareness: {
    getStates(): Map<number, unknown>
    on(name: 'change', f: () => void): void
    off(name: 'change', f: () => void): void
  },
  check: (states: Map<number, unknown>) => boolean,
  timeoutMs = 10_000,
): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      awareness.off('change', listener)
      reject(new Error(`awareness: ${JSON.stringify([...awareness.getStates()])}`))
    }, timeoutMs)
    const listener = (): void => {
      if (!check(awareness.getStates())) return
      clearTimeout(timer)
      awareness.off('change', listener)
      resolve()
    }
    awareness.on('change', listener)
    listener()
  })
