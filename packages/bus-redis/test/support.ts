/** Two relays sharing one store and one Redis, for the tests of this package. */
import { EventEmitter } from 'node:events'
import {
  MemoryStore,
  type BusMessage,
  type CatchUpReason,
  type DocStore,
  type RelayBus,
  type RelayMetrics,
} from '@weft/server'
import { startTestRelay, until, type TestRelay, type TestRelayOptions } from '@weft/testkit'
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
  options: {
    wrapA?: (bus: RelayBus) => RelayBus
    /** Wraps the shared store as relay A sees it (to hold its appends back, say). */
    storeA?: (store: MemoryStore) => DocStore
    /** Wraps the shared store as relay B sees it (to count its reads, say). */
    storeB?: (store: MemoryStore) => DocStore
    relay?: TestRelayOptions
    /** What each relay reports its work to (see {@link recordBusMetrics}). */
    metrics?: { a?: Partial<RelayMetrics>; b?: Partial<RelayMetrics> }
  } = {},
): Promise<RelayPair> => {
  const store = new MemoryStore()
  const busA = testBus(redisUrl)
  const busB = testBus(redisUrl)
  await Promise.all([busA.whenUp(), busB.whenUp()])
  const shared = { ...options.relay, store, keepStore: true }
  const { a: metricsA, b: metricsB } = options.metrics ?? {}
  const a = await startTestRelay({
    ...shared,
    ...(options.storeA === undefined ? {} : { store: options.storeA(store) }),
    ...(metricsA === undefined ? {} : { metrics: metricsA }),
    bus: options.wrapA?.(busA) ?? busA,
  })
  const b = await startTestRelay({
    ...shared,
    ...(options.storeB === undefined ? {} : { store: options.storeB(store) }),
    ...(metricsB === undefined ? {} : { metrics: metricsB }),
    bus: busB,
  })
  onTestFinished(async () => {
    await Promise.all([a.close(), b.close()])
    await Promise.all([busA.close(), busB.close()])
    await store.close()
  })
  return { a, b, busA, busB, store }
}

/** What a relay reported through its bus hooks of RelayMetrics. */
export interface BusReports {
  /** The hooks to pass as the relay's `metrics`. */
  readonly metrics: Partial<RelayMetrics>
  /** Messages of `kind` sent (`out`) or received from another relay (`in`). */
  count(direction: 'out' | 'in', kind: BusMessage['kind']): number
  /** Gaps opened in a document's sequence. */
  readonly gaps: number
  /** Catch-ups from the store, in the order they ended. */
  readonly catchUps: readonly { reason: CatchUpReason; seconds: number; ok: boolean }[]
  /** Resolves once `check()` holds, re-checked at every report; rejects after `timeoutMs`. */
  until(check: () => boolean, timeoutMs?: number): Promise<void>
}

/** Records the bus hooks a relay calls. */
export const recordBusMetrics = (): BusReports => {
  const messages = new Map<string, number>()
  const catchUps: { reason: CatchUpReason; seconds: number; ok: boolean }[] = []
  const reported = new EventEmitter()
  let gaps = 0
  const message = (direction: 'out' | 'in', kind: BusMessage['kind']): void => {
    const key = `${direction} ${kind}`
    messages.set(key, (messages.get(key) ?? 0) + 1)
    reported.emit('report')
  }
  const reports: BusReports = {
    metrics: {
      busMessageOut: (kind) => message('out', kind),
      busMessageIn: (kind) => message('in', kind),
      busGap: () => {
        gaps += 1
        reported.emit('report')
      },
      caughtUp: (reason, seconds, ok) => {
        catchUps.push({ reason, seconds, ok })
        reported.emit('report')
      },
    },
    count: (direction, kind) => messages.get(`${direction} ${kind}`) ?? 0,
    get gaps() {
      return gaps
    },
    catchUps,
    until: (check, timeoutMs = 10_000) =>
      until(
        reported,
        'report',
        check,
        () => `bus reports ${JSON.stringify({ messages: [...messages], gaps, catchUps })}`,
        timeoutMs,
      ),
  }
  return reports
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

/**
 * Picks both copies of edit `n` a relay publishes when each edit is acknowledged before the next
 * is made: its update sent ahead (the `n`th with sequence 0) and its durable record (sequence
 * `n`). Dropping both loses the edit on the bus, as a lost message does.
 */
export const bothCopiesOfEdit = (n: number): ((message: BusMessage) => boolean) => {
  let ahead = 0
  return (message) => {
    if (message.kind !== 'update') return false
    if (message.seq !== 0) return message.seq === n
    ahead += 1
    return ahead === n
  }
}

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
