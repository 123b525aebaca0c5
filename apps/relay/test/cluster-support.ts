/** Three relay processes on one PostgreSQL and one Redis, and what the cluster tests share. */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createClient, type DocHandle, type WeftClient } from '@weft/client'
import { PostgresStore } from '@weft/store-postgres'
import { spawnRelay, type RelayProcess } from '@weft/testkit'
import { WebSocket } from 'ws'
import * as Y from 'yjs'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))

/** Spawns a relay on the shared PostgreSQL database and Redis, with a change feed. */
export const spawnClusterRelay = (
  dataDir: string,
  postgresUrl: string,
  redisUrl: string,
  extra: readonly string[] = [],
): Promise<RelayProcess> =>
  spawnRelay(MAIN, dataDir, [
    '--store',
    'postgres',
    '--postgres-url',
    postgresUrl,
    '--redis-url',
    redisUrl,
    '--history-ms',
    '600000',
    ...extra,
  ])

/**
 * A Weft client whose every connection goes to the first relay `live()` lists: when its relay
 * dies it reconnects to another, as it would behind a load balancer.
 */
export const failoverClient = (live: () => readonly RelayProcess[]): WeftClient => {
  class FailoverSocket extends WebSocket {
    constructor(_url: string, protocols?: string | string[]) {
      const [relay] = live()
      super(relay?.url ?? 'ws://127.0.0.1:1', protocols)
    }
  }
  return createClient({
    url: 'ws://cluster.invalid',
    WebSocket: FailoverSocket,
    backoff: { initialMs: 20, maxMs: 200 },
  })
}

/** A plain Weft client of one relay. */
export const clientOf = (relay: RelayProcess): WeftClient =>
  createClient({ url: relay.url, WebSocket, backoff: { initialMs: 20, maxMs: 200 } })

/** Rejects after `ms` unless `promise` settles first. */
export const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error as Error)
      },
    )
  })

/**
 * Writes `key` after `key` into the map `m` of `handle` until `stop()`; keys whose `whenSaved`
 * resolved go into `acked`.
 */
export const writeUntil = async (
  handle: DocHandle,
  prefix: string,
  acked: Set<string>,
  stop: () => boolean,
): Promise<void> => {
  for (let n = 0; !stop(); n++) {
    const key = `${prefix}-${n}`
    handle.doc.getMap('m').set(key, n)
    await within(handle.whenSaved(), 30_000, `saving ${key}`)
    acked.add(key)
  }
}

/** The document as PostgreSQL holds it. */
export const storedKeys = async (postgresUrl: string, name: string): Promise<Set<string>> => {
  const store = await PostgresStore.open({ url: postgresUrl, historyMs: 600_000 })
  try {
    const stored = await store.load(name)
    const doc = new Y.Doc()
    if (stored.snapshot !== null) Y.applyUpdate(doc, stored.snapshot)
    for (const update of stored.updates) Y.applyUpdate(doc, update)
    return new Set(doc.getMap('m').keys())
  } finally {
    await store.close()
  }
}

/** `/readyz` of `relay`: its status. */
export const readyz = async (relay: RelayProcess): Promise<number> =>
  (await fetch(`http://127.0.0.1:${relay.port}/readyz`).catch(() => null))?.status ?? 0

/** A webhook receiver that answers 200 and counts each feed position it received. */
export interface Receiver {
  readonly url: string
  readonly counts: Map<number, number>
  /** Resolves once every position of `positions` arrived. */
  untilReceived(positions: readonly number[], timeoutMs: number): Promise<void>
  close(): Promise<void>
}

export const startReceiver = async (): Promise<Receiver> => {
  const counts = new Map<number, number>()
  const waiters = new Set<() => void>()
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        events: Array<{ position: number }>
      }
      for (const { position } of body.events)
        counts.set(Number(position), (counts.get(Number(position)) ?? 0) + 1)
      response.writeHead(200).end()
      for (const waiter of [...waiters]) waiter()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    counts,
    untilReceived: (positions, timeoutMs) =>
      within(
        new Promise<void>((resolve) => {
          const check = (): void => {
            if (!positions.every((position) => counts.has(position))) return
            waiters.delete(check)
            resolve()
          }
          waiters.add(check)
          check()
        }),
        timeoutMs,
        `webhook deliveries of ${positions.length} events`,
      ),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Feed positions of documents under `prefix`, as relay `relay` reads them. */
export const feedPositions = async (relay: RelayProcess, prefix: string): Promise<number[]> => {
  const response = await fetch(
    `http://127.0.0.1:${relay.port}/v1/feed?limit=1000&docs=${encodeURIComponent(`${prefix}/**`)}`,
  )
  const body = (await response.json()) as { events: Array<{ position: number }> }
  return body.events.map((event) => Number(event.position))
}
