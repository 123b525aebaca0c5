/**
 * Disk-full injection: Weft clients write through a relay whose LevelDB store refuses every write
 * with ENOSPC during seeded windows. Each `saved` a client receives is checked against what the
 * store really wrote (a mirror of the successful appends): an acknowledgement for an unwritten
 * edit counts as a violation. After the last window the run waits for every edit to be saved and
 * reads the store from disk: nothing may be missing.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient, MemoryLocalStore, type WeftClient } from '@weft/client'
import type { WeftError } from '@weft/protocol'
import {
  ForwardingStore,
  type AppendEntry,
  type AppendOptions,
  type FeedChange,
} from '@weft/server'
import { LevelStore } from '@weft/store-level'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { mulberry32 } from './fault-lane.js'
import { sleep } from './run-support.js'
import { startTestRelay } from './test-relay.js'

/** Options of {@link runDiskFullCheck}. */
export interface DiskFullCheckOptions {
  readonly seed: number
  /** Windows during which every write fails. Default 3. */
  readonly windows?: number
  /** Writing clients. Default 3. */
  readonly writers?: number
}

/** What the windows did and what the final read found. */
export interface DiskFullCheckResult {
  readonly seed: number
  readonly windows: number
  readonly writes: number
  /** Store writes (appends and compactions) refused with ENOSPC. */
  readonly refusedWrites: number
  /** Errors the clients received, and how many of them said to retry. */
  readonly clientErrors: number
  readonly retryableErrors: number
  /** `saved` received for an edit the store had not written: must be 0. */
  readonly acknowledgedUnwritten: number
  /** Edits missing from the store at the end (every edit must be saved by then): must be 0. */
  readonly lost: number
  /** From the end of the last window until every client had everything saved (ms). */
  readonly resumeMs: number
  readonly durationMs: number
}

/**
 * A LevelStore whose writes fail with ENOSPC while `full`; it mirrors what it really wrote (log
 * appends and compaction snapshots).
 */
class FillableStore extends ForwardingStore {
  full = false
  refused = 0
  readonly written = new Map<string, Y.Doc>()

  override async append(
    name: string,
    entries: readonly AppendEntry[],
    changes?: readonly FeedChange[],
    options?: AppendOptions,
  ): Promise<number> {
    this.#check()
    const seq = await this.inner.append(name, entries, changes, options)
    for (const entry of entries) Y.applyUpdate(this.#mirror(name), entry.update)
    return seq
  }

  override async compact(name: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    this.#check()
    await this.inner.compact(name, snapshot, throughSeq)
    Y.applyUpdate(this.#mirror(name), snapshot)
  }

  #mirror(name: string): Y.Doc {
    let mirror = this.written.get(name)
    if (mirror === undefined) this.written.set(name, (mirror = new Y.Doc()))
    return mirror
  }

  override async delete(name: string, change?: FeedChange): Promise<void> {
    this.#check()
    await this.inner.delete(name, change)
    this.written.delete(name)
  }

  override async writeState(
    records: ReadonlyArray<{ key: string; value: unknown }>,
  ): Promise<void> {
    this.#check()
    await this.inner.writeState(records)
  }

  #check(): void {
    if (!this.full) return
    this.refused += 1
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
  }
}

/** Runs the check in this process; the data directory is gone afterwards. */
export const runDiskFullCheck = async (
  options: DiskFullCheckOptions,
): Promise<DiskFullCheckResult> => {
  const started = performance.now()
  const { seed, windows = 3, writers = 3 } = options
  const random = mulberry32(seed)
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-disk-full-'))
  const store = new FillableStore(await LevelStore.open({ path: dataDir }))
  const relay = await startTestRelay({ store })
  const doc = 'filled'
  const items = new Set<string>()
  let acknowledgedUnwritten = 0
  let clientErrors = 0
  let retryableErrors = 0
  let stopped = false
  const clients: WeftClient[] = []
  const handles: Array<ReturnType<WeftClient['open']>> = []

  const writer = async (index: number): Promise<void> => {
    const client = createClient({
      url: relay.url,
      WebSocket: WebSocket,
      store: new MemoryLocalStore(),
      backoff: { initialMs: 20, maxMs: 100, slowRetryMs: 100, stableMs: 1000 },
    })
    clients.push(client)
    const handle = client.open(doc)
    handles.push(handle)
    handle.on('error', (error: WeftError) => {
      clientErrors += 1
      if (error.retry !== 'stop') retryableErrors += 1
    })
    const array = handle.doc.getArray<string>('items')
    for (let seq = 0; !stopped; seq++) {
      const item = `${index}:${seq}`
      items.add(item)
      array.push([item])
      // `saved` for this edit must mean the store wrote it: the mirror holds what it wrote.
      void handle.whenSaved().then(
        () => {
          const onDisk = store.written.get(doc)?.getArray<string>('items').toArray() ?? []
          if (!onDisk.includes(item)) acknowledgedUnwritten += 1
        },
        () => {},
      )
      await sleep(5)
    }
  }

  let resumeMs = 0
  let lost = 0
  try {
    const writing = Array.from({ length: writers }, (_, index) => writer(index))
    for (let window = 0; window < windows; window++) {
      await sleep(150 + random() * 250)
      store.full = true
      await sleep(150 + random() * 350)
      store.full = false
    }
    const spaceBack = performance.now()
    stopped = true
    await Promise.all(writing)
    await Promise.all(handles.map((handle) => handle.whenSaved()))
    resumeMs = Math.round(performance.now() - spaceBack)
  } finally {
    for (const client of clients) await client.close()
    await relay.close({ keepData: true })
  }
  // Read what is on disk with a fresh store.
  const reopened = await LevelStore.open({ path: dataDir })
  try {
    const stored = await reopened.load(doc)
    const read = new Y.Doc()
    if (stored.snapshot !== null) Y.applyUpdate(read, stored.snapshot)
    for (const update of stored.updates) Y.applyUpdate(read, update)
    const present = new Set(read.getArray<string>('items').toArray())
    for (const item of items) if (!present.has(item)) lost += 1
  } finally {
    await reopened.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
  return {
    seed,
    windows,
    writes: items.size,
    refusedWrites: store.refused,
    clientErrors,
    retryableErrors,
    acknowledgedUnwritten,
    lost,
    resumeMs,
    durationMs: Math.round(performance.now() - started),
  }
}
