/**
 * Crash consistency: Weft clients write to several documents through a relay process that is
 * killed with SIGKILL again and again — at the moment its debug log says it started an append
 * (group commit), a compaction or an unload, or at a random moment — and restarted on the same
 * LevelDB. After every restart a fresh client reads every document and compares it with the
 * record of acknowledged writes: nothing acknowledged may be missing, nothing may be doubled.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient, MemoryLocalStore, type WeftClient } from '@weft/client'
import { WebSocket } from 'ws'
import { mulberry32 } from './fault-lane.js'
import { spawnRelay, type RelayProcess } from './relay-process.js'
import { freePort, sleep } from './run-support.js'

/** Where a kill is aimed: inside an append, a compaction or an unload, or anywhere. */
export type CrashPhase = 'append' | 'compaction' | 'unload' | 'anywhere'
export const CRASH_PHASES: readonly CrashPhase[] = ['append', 'compaction', 'unload', 'anywhere']

/** The debug log lines that open and close each phase. */
const MARKERS: Record<Exclude<CrashPhase, 'anywhere'>, { start: string; end: string }> = {
  append: { start: 'appending', end: 'appended' },
  compaction: { start: 'compacting', end: 'compacted' },
  unload: { start: 'unloading', end: 'unloaded' },
}

/** Options of {@link runCrashCheck}. */
export interface CrashCheckOptions {
  /** Path of the relay's `main.ts`. */
  readonly relayMain: string
  readonly seed: number
  /** SIGKILLs while clients write, aimed at the phases in turn (one more follows at the end). */
  readonly kills: number
  /** Writing clients. Default 3. */
  readonly writers?: number
  /** Documents they spread their writes over. Default 4. */
  readonly docs?: number
}

/** What the kills hit and what the reads found. */
export interface CrashCheckResult {
  readonly seed: number
  readonly kills: number
  /** Per phase: kills aimed at it, and how many landed inside it (its end was never logged). */
  readonly byPhase: Readonly<Record<CrashPhase, { aimed: number; landed: number }>>
  readonly writes: number
  readonly acknowledged: number
  /** Acknowledged writes missing from a read after a restart (summed over reads): must be 0. */
  readonly lost: number
  /** Writes found more than once: must be 0. */
  readonly duplicates: number
  /** Reads after restarts. */
  readonly verifications: number
  readonly durationMs: number
}

interface Written {
  readonly doc: string
  acknowledged: boolean
}

/** Runs the check; the relay and its data directory are gone afterwards. */
export const runCrashCheck = async (options: CrashCheckOptions): Promise<CrashCheckResult> => {
  const started = performance.now()
  const { seed, kills, writers = 3, docs = 4 } = options
  const random = mulberry32(seed)
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-crash-check-'))
  const port = await freePort()
  const start = (): Promise<RelayProcess> =>
    spawnRelay(options.relayMain, dataDir, [
      '--port',
      String(port),
      '--log-level',
      'debug',
      '--compact-after-updates',
      '10',
      '--unload-grace-ms',
      '1',
    ])
  let relay = await start()
  const url = `ws://127.0.0.1:${port}`
  const written = new Map<string, Written>()
  const byPhase = Object.fromEntries(
    CRASH_PHASES.map((phase) => [phase, { aimed: 0, landed: 0 }]),
  ) as Record<CrashPhase, { aimed: number; landed: number }>
  let lost = 0
  let duplicates = 0
  let verifications = 0
  let stopped = false
  const clients: WeftClient[] = []

  const writer = async (index: number): Promise<void> => {
    const pick = mulberry32(seed + index + 1)
    const client = createClient({
      url,
      WebSocket: WebSocket,
      store: new MemoryLocalStore(),
      backoff: { initialMs: 20, maxMs: 200, slowRetryMs: 200, stableMs: 1000 },
      heartbeatIntervalMs: 500,
      heartbeatTimeoutMs: 1000,
    })
    clients.push(client)
    let seq = 0
    while (!stopped) {
      const doc = `doc-${Math.floor(pick() * docs)}`
      const handle = client.open(doc)
      const burst: Written[] = []
      const count = 5 + Math.floor(pick() * 20)
      for (let n = 0; n < count && !stopped; n++) {
        const item = `${index}:${seq++}`
        const entry = { doc, acknowledged: false }
        written.set(item, entry)
        burst.push(entry)
        handle.doc.getArray<string>('items').push([item])
        await sleep(3)
      }
      // Wait a bounded time for `saved`; then leave the document (so its room can unload).
      await Promise.race([
        handle.whenSaved().then(
          () => burst.forEach((entry) => (entry.acknowledged = true)),
          () => {},
        ),
        sleep(2_000),
      ])
      await handle.close()
    }
  }

  /** SIGKILLs the relay inside `phase` (or at once for `anywhere`); true if it landed inside. */
  const kill = async (phase: CrashPhase): Promise<boolean> => {
    const child = relay.child
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()))
    if (phase === 'anywhere') {
      child.kill('SIGKILL')
      await closed
      return true
    }
    const { start: opening, end } = MARKERS[phase]
    let tail = ''
    let opened: { doc: string; at: number } | null = null
    const fired = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000)
      const onData = (chunk: Buffer): void => {
        tail += chunk.toString()
        const match = new RegExp(`"doc":"([^"]*)"[^\\n]*"msg":"${opening}"`).exec(tail)
        if (match === null) {
          tail = tail.slice(Math.max(0, tail.lastIndexOf('\n')))
          return
        }
        child.kill('SIGKILL')
        clearTimeout(timer)
        child.stdout?.off('data', onData)
        opened = { doc: match[1] as string, at: relay.output().lastIndexOf(`"msg":"${opening}"`) }
        resolve(true)
      }
      child.stdout?.on('data', onData)
    })
    const seen = await fired
    if (!seen) child.kill('SIGKILL')
    await closed
    if (opened === null) return false
    const { doc, at } = opened as { doc: string; at: number }
    const after = relay.output().slice(at)
    return !new RegExp(`"doc":"${doc}"[^\\n]*"msg":"${end}"`).test(after)
  }

  /** A fresh client reads every document; acknowledged writes missing from it are lost. */
  const verify = async (): Promise<void> => {
    const reader = createClient({ url, WebSocket: WebSocket })
    try {
      for (let d = 0; d < docs; d++) {
        const doc = `doc-${d}`
        const handle = reader.open(doc)
        await handle.whenSynced()
        const counts = new Map<string, number>()
        for (const item of handle.doc.getArray<string>('items').toArray())
          counts.set(item, (counts.get(item) ?? 0) + 1)
        for (const [item, entry] of written) {
          if (entry.doc === doc && entry.acknowledged && !counts.has(item)) lost += 1
        }
        duplicates += [...counts.values()].filter((count) => count > 1).length
      }
      verifications += 1
    } finally {
      await reader.close()
    }
  }

  try {
    const writing = Array.from({ length: writers }, (_, index) => writer(index))
    for (let n = 0; n < kills; n++) {
      await sleep(100 + random() * 300)
      const phase = CRASH_PHASES[n % CRASH_PHASES.length] as CrashPhase
      byPhase[phase].aimed += 1
      if (await kill(phase)) byPhase[phase].landed += 1
      relay = await start()
      await verify()
    }
    stopped = true
    await Promise.all(writing)
    // Last word: one more kill, then read everything from the restarted relay.
    byPhase.anywhere.aimed += 1
    if (await kill('anywhere')) byPhase.anywhere.landed += 1
    relay = await start()
    await verify()
  } finally {
    stopped = true
    for (const client of clients) await client.close()
    await relay.stop('SIGTERM')
    rmSync(dataDir, { recursive: true, force: true })
  }
  const entries = [...written.values()]
  return {
    seed,
    kills: kills + 1,
    byPhase,
    writes: entries.length,
    acknowledged: entries.filter((entry) => entry.acknowledged).length,
    lost,
    duplicates,
    verifications,
    durationMs: Math.round(performance.now() - started),
  }
}
