/**
 * The set check against several relays: clients add unique items to a shared set through three
 * relay processes on one PostgreSQL and one Redis, each client preferring one relay and moving to
 * the next live one when its relay dies, while seeded relays are SIGKILLed and restarted. At the
 * end every relay is killed and restarted, and every acknowledged item must be in PostgreSQL, on
 * every relay and at every writer, with all of them in the same state.
 */
import { createClient, MemoryLocalStore, type WeftClient } from '@weft/client'
import type { PostgresStore } from '@weft/store-postgres'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { sameStateVector } from './convergence.js'
import { mulberry32 } from './fault-lane.js'
import { startPostgres } from './postgres.js'
import { startRedis } from './redis.js'
import { RelayRing } from './relay-ring.js'
import { percentile, sleep } from './run-support.js'
import { writeSetItems, type SetItemStatus } from './set-writers.js'

/** Options of {@link runClusterSetCheck}. */
export interface ClusterSetCheckOptions {
  /** Path of the relay's `main.ts`. */
  readonly relayMain: string
  readonly seed: number
  readonly clients: number
  readonly itemsPerClient: number
  /** SIGKILLs of a seeded relay during the run, at seeded moments. */
  readonly kills: number
  /** Relay processes sharing the PostgreSQL database and the Redis bus. Default 3. */
  readonly relays?: number
  /** Milliseconds between a client's adds. Default 10. */
  readonly intervalMs?: number
  /** How long (ms) the replicas get to agree after the final restart. Default 30 000. */
  readonly convergeTimeoutMs?: number
}

/** What the final reads found. */
export interface ClusterSetCheckResult {
  readonly seed: number
  readonly relays: number
  readonly attempted: number
  /** Adds whose client received `saved` for them. */
  readonly ok: number
  /** Acknowledged adds missing from PostgreSQL, a relay or a writer: must be 0. */
  readonly lost: number
  /** Adds never acknowledged that PostgreSQL holds anyway. */
  readonly recoveredUnknown: number
  /** Adds never acknowledged and not in PostgreSQL. */
  readonly unknownAbsent: number
  /** Items in any replica that no client added: must be 0. */
  readonly unexpected: number
  /** Items present more than once in any replica: must be 0. */
  readonly duplicates: number
  /** Replicas (writers, one reader per relay) whose state differs from PostgreSQL's: must be 0. */
  readonly divergences: number
  /** Replicas compared: PostgreSQL, one reader per relay and every writer. */
  readonly replicas: number
  /** SIGKILLs during the run, plus the final one of every relay. */
  readonly kills: number
  /** Connections a writer opened to another relay than its previous one. */
  readonly failovers: number
  /** Time from an add until its `saved`, over the acknowledged adds (ms). */
  readonly savedP50Ms: number
  readonly savedP99Ms: number
  /** Time from an add until every other writer has it (ms), over the adds that got there. */
  readonly convergeP50Ms: number
  readonly convergeP99Ms: number
  /** From the final SIGKILL of every relay (restarts included) until every replica agreed (ms). */
  readonly finalConvergeMs: number
  readonly durationMs: number
}

const DOC = 'set'

/** The set as a replica holds it: each item and how often. */
const itemCounts = (doc: Y.Doc): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const item of doc.getArray<string>('items').toArray())
    counts.set(item, (counts.get(item) ?? 0) + 1)
  return counts
}

/** The set document as PostgreSQL holds it. */
const storedDoc = async (store: PostgresStore): Promise<Y.Doc> => {
  const stored = await store.load(DOC)
  const doc = new Y.Doc()
  if (stored.snapshot !== null) Y.applyUpdate(doc, stored.snapshot)
  for (const update of stored.updates) Y.applyUpdate(doc, update)
  return doc
}

/**
 * Waits until every replica has PostgreSQL's state (read again each round: outboxes may still
 * flush) or `timeoutMs` passed; resolves with the last stored copy.
 */
const untilAgreed = async (
  postgresUrl: string,
  replicas: readonly Y.Doc[],
  timeoutMs: number,
): Promise<Y.Doc> => {
  // Loaded here, not with the kit: every test file imports the kit, few need PostgreSQL.
  const { PostgresStore } = await import('@weft/store-postgres')
  const store = await PostgresStore.open({ url: postgresUrl })
  try {
    const deadline = performance.now() + timeoutMs
    for (;;) {
      const stored = await storedDoc(store)
      const agreed = replicas.every((doc) => sameStateVector(doc, stored))
      if (agreed || performance.now() > deadline) return stored
      await sleep(100)
    }
  } finally {
    await store.close()
  }
}

/**
 * A WebSocket class for a client of relay `home`: each connection goes to the first live relay
 * from `home` on, as behind a load balancer; `onMove` hears each change of relay.
 */
const failoverSocket = (ring: RelayRing, home: number, onMove: () => void) => {
  let previous = home
  return class FailoverSocket extends WebSocket {
    constructor(_url: string, protocols?: string | string[]) {
      const offsets = Array.from({ length: ring.size }, (_, offset) => offset)
      const offset = offsets.find((each) => ring.live((home + each) % ring.size)) ?? 0
      const chosen = (home + offset) % ring.size
      if (chosen !== previous) onMove()
      previous = chosen
      super(ring.proxyUrl(chosen), protocols)
    }
  }
}

type Counted = 'ok' | 'lost' | 'recoveredUnknown' | 'unknownAbsent' | 'unexpected' | 'duplicates'
type Tally = { -readonly [Key in Counted]: number } & { savedTimes: number[] }

/** Sorts every add by its acknowledgement and where it is: PostgreSQL first, then each replica. */
const tally = (
  status: ReadonlyMap<string, SetItemStatus>,
  stored: Y.Doc,
  replicas: readonly Y.Doc[],
): Tally => {
  const storedCounts = itemCounts(stored)
  const allCounts = [storedCounts, ...replicas.map(itemCounts)]
  const result: Tally = {
    ok: 0,
    lost: 0,
    recoveredUnknown: 0,
    unknownAbsent: 0,
    unexpected: 0,
    duplicates: 0,
    savedTimes: [],
  }
  for (const [item, entry] of status) {
    if (entry.savedMs !== null) {
      result.ok += 1
      result.savedTimes.push(entry.savedMs)
      if (allCounts.some((counts) => !counts.has(item))) result.lost += 1
    } else if (storedCounts.has(item)) result.recoveredUnknown += 1
    else result.unknownAbsent += 1
  }
  for (const counts of allCounts) {
    result.unexpected += [...counts.keys()].filter((item) => !status.has(item)).length
    result.duplicates += [...counts.values()].filter((count) => count > 1).length
  }
  return result
}

/** Runs the check; PostgreSQL, Redis, the relays and their directories are gone afterwards. */
export const runClusterSetCheck = async (
  options: ClusterSetCheckOptions,
): Promise<ClusterSetCheckResult> => {
  const started = performance.now()
  const random = mulberry32(options.seed)
  const relays = options.relays ?? 3
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()])
  const clients: WeftClient[] = []
  let ring: RelayRing | null = null
  try {
    const postgresUrl = await postgres.createDatabase()
    const args = ['--store', 'postgres', '--postgres-url', postgresUrl, '--redis-url', redis.url]
    const live = await RelayRing.open({
      relayMain: options.relayMain,
      relays,
      args,
      seed: options.seed,
    })
    ring = live
    let failovers = 0
    const status = new Map<string, SetItemStatus>()
    const writers = Array.from({ length: options.clients }, (_, index) => {
      const client = createClient({
        url: 'ws://relays.invalid',
        WebSocket: failoverSocket(live, index % relays, () => (failovers += 1)),
        store: new MemoryLocalStore(),
        backoff: { initialMs: 20, maxMs: 300, slowRetryMs: 300, stableMs: 1000 },
        heartbeatIntervalMs: 500,
        heartbeatTimeoutMs: 1000,
      })
      clients.push(client)
      return { index, handle: client.open(DOC) }
    })
    const intervalMs = options.intervalMs ?? 10
    const writing = writeSetItems(writers, status, { items: options.itemsPerClient, intervalMs })
    const killer = (async () => {
      for (let kill = 0; kill < options.kills; kill++) {
        await sleep((random() * options.itemsPerClient * intervalMs) / options.kills)
        const victim = Math.floor(random() * relays)
        await live.kill(victim)
        await live.start(victim)
      }
    })()
    const [convergeTimes] = await Promise.all([writing, killer])

    // The final reads: every relay killed and restarted, one fresh reader on each.
    await Promise.all(Array.from({ length: relays }, (_, index) => live.kill(index)))
    const killedAll = performance.now()
    for (let index = 0; index < relays; index++) await live.start(index)
    const readers = Array.from({ length: relays }, (_, index) => {
      const reader = createClient({ url: live.relay(index).url, WebSocket })
      clients.push(reader)
      return reader.open(DOC)
    })
    await Promise.all(readers.map((reader) => reader.whenSynced()))
    const replicas = [...readers, ...writers.map((writer) => writer.handle)].map(
      (handle) => handle.doc,
    )
    const stored = await untilAgreed(postgresUrl, replicas, options.convergeTimeoutMs ?? 30_000)
    const finalConvergeMs = Math.round(performance.now() - killedAll)
    const { savedTimes, ...counts } = tally(status, stored, replicas)
    return {
      seed: options.seed,
      relays,
      attempted: status.size,
      ...counts,
      divergences: replicas.filter((doc) => !sameStateVector(doc, stored)).length,
      replicas: replicas.length + 1,
      kills: options.kills + relays,
      failovers,
      savedP50Ms: Math.round(percentile(savedTimes, 50)),
      savedP99Ms: Math.round(percentile(savedTimes, 99)),
      convergeP50Ms: Math.round(percentile(convergeTimes, 50)),
      convergeP99Ms: Math.round(percentile(convergeTimes, 99)),
      finalConvergeMs,
      durationMs: Math.round(performance.now() - started),
    }
  } finally {
    await Promise.all(clients.map((client) => client.close()))
    await ring?.close()
    await Promise.all([postgres.stop(), redis.stop()])
  }
}
