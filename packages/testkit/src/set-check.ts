/**
 * A Jepsen-style set check: clients add unique items to a shared set through a real relay process
 * that is killed with SIGKILL and restarted while they write, over a faulty network. An add counts
 * as `ok` once the client has `saved` for it, `unknown` if it never learned. At the end a fresh
 * client reads the set from a freshly restarted relay.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient, MemoryLocalStore, type WeftClient } from '@weft/client'
import { WebSocket } from 'ws'
import { mulberry32 } from './fault-lane.js'
import { startFaultProxy } from './fault-proxy.js'
import { spawnRelay, type RelayProcess } from './relay-process.js'
import { freePort, percentile } from './run-support.js'
import { writeSetItems, type SetItemStatus } from './set-writers.js'

/** Options of {@link runSetCheck}. */
export interface SetCheckOptions {
  /** Path of the relay's `main.ts`. */
  readonly relayMain: string
  readonly seed: number
  readonly clients: number
  readonly itemsPerClient: number
  /** SIGKILLs of the relay during the run, at seeded moments. */
  readonly kills: number
  /** Milliseconds between a client's adds. */
  readonly intervalMs?: number
}

/** What the final read found. */
export interface SetCheckResult {
  readonly seed: number
  readonly attempted: number
  /** Adds whose client received `saved` for them. */
  readonly ok: number
  /** Acknowledged adds missing from the final read: must be 0. */
  readonly lost: number
  /** Adds never acknowledged that are there anyway. */
  readonly recoveredUnknown: number
  /** Adds never acknowledged and not there. */
  readonly unknownAbsent: number
  /** Items in the final read that no client added: must be 0. */
  readonly unexpected: number
  /** Items present more than once: must be 0. */
  readonly duplicates: number
  readonly kills: number
  /** Time from an add until its `saved`, over the acknowledged adds (ms). */
  readonly savedP50Ms: number
  readonly savedP99Ms: number
  /** Time from an add until every other writer has it (ms), over the adds that got there. */
  readonly convergeP50Ms: number
  readonly convergeP99Ms: number
  readonly durationMs: number
}

/** Runs the check; the relay and its data directory are gone afterwards. */
export const runSetCheck = async (options: SetCheckOptions): Promise<SetCheckResult> => {
  const started = performance.now()
  const random = mulberry32(options.seed)
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-set-check-'))
  const port = await freePort()
  const start = (): Promise<RelayProcess> =>
    spawnRelay(options.relayMain, dataDir, ['--port', String(port)])
  let relay = await start()
  const proxy = await startFaultProxy({ target: `ws://127.0.0.1:${port}`, seed: options.seed })
  proxy.setDelay({ minMs: 0, maxMs: 20 })
  proxy.setDuplicate(0.02)
  proxy.setReorder(0.02)
  const clients: WeftClient[] = []
  const status = new Map<string, SetItemStatus>()
  let convergeTimes: number[] = []
  const interval = options.intervalMs ?? 10
  try {
    const writers = Array.from({ length: options.clients }, (_, index) => {
      const client = createClient({
        url: proxy.url,
        WebSocket: WebSocket,
        store: new MemoryLocalStore(),
        backoff: { initialMs: 20, maxMs: 300, slowRetryMs: 300, stableMs: 1000 },
        heartbeatIntervalMs: 500,
        heartbeatTimeoutMs: 1000,
      })
      clients.push(client)
      return { index, handle: client.open('set') }
    })
    const writing = writeSetItems(writers, status, {
      items: options.itemsPerClient,
      intervalMs: interval,
    })
    const writeWindowMs = options.itemsPerClient * interval
    const killer = (async () => {
      for (let kill = 0; kill < options.kills; kill++) {
        await new Promise((resolve) =>
          setTimeout(resolve, (random() * writeWindowMs) / options.kills),
        )
        await relay.stop('SIGKILL')
        relay = await start()
      }
    })()
    ;[convergeTimes] = await Promise.all([writing, killer])
  } finally {
    for (const client of clients) await client.close()
    await proxy.close()
  }
  // The final read: a fresh relay process on the same data, a fresh client.
  await relay.stop('SIGKILL')
  relay = await start()
  const reader = createClient({ url: relay.url, WebSocket: WebSocket })
  let read: string[]
  try {
    const handle = reader.open('set')
    await handle.whenSynced()
    read = handle.doc.getArray<string>('items').toArray()
  } finally {
    await reader.close()
    await relay.stop('SIGTERM')
    rmSync(dataDir, { recursive: true, force: true })
  }
  const counts = new Map<string, number>()
  for (const item of read) counts.set(item, (counts.get(item) ?? 0) + 1)
  let ok = 0
  let lost = 0
  let recoveredUnknown = 0
  let unknownAbsent = 0
  const savedTimes: number[] = []
  for (const [item, entry] of status) {
    const present = counts.has(item)
    if (entry.savedMs !== null) {
      ok += 1
      savedTimes.push(entry.savedMs)
      if (!present) lost += 1
    } else if (present) recoveredUnknown += 1
    else unknownAbsent += 1
  }
  return {
    seed: options.seed,
    attempted: status.size,
    ok,
    lost,
    recoveredUnknown,
    unknownAbsent,
    unexpected: [...counts.keys()].filter((item) => !status.has(item)).length,
    duplicates: [...counts.values()].filter((count) => count > 1).length,
    kills: options.kills,
    savedP50Ms: Math.round(percentile(savedTimes, 50)),
    savedP99Ms: Math.round(percentile(savedTimes, 99)),
    convergeP50Ms: Math.round(percentile(convergeTimes, 50)),
    convergeP99Ms: Math.round(percentile(convergeTimes, 99)),
    durationMs: Math.round(performance.now() - started),
  }
}
