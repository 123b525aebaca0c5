/** MemoryStore: a DocStore in process memory, for tests and throwaway relays. */
import { foldUpdates } from '@weft/doc'
import { WeftError } from '@weft/protocol'
import type {
  AppendEntry,
  DocHistory,
  DocStore,
  DocSummary,
  FeedChange,
  FeedPage,
  HistoryRecord,
  StateRecord,
  StoredDoc,
} from './doc-store.js'
import type { LogHeads, LogTail } from './log-heads.js'
import { MemoryFeed } from './memory-feed.js'
import { stateJson } from './state-json.js'

interface MemoryRecord {
  readonly seq: number
  readonly entries: readonly AppendEntry[]
}

interface MemoryDoc {
  snapshot: Uint8Array | null
  log: MemoryRecord[]
  headSeq: number
  /** The last record the snapshot covers: a compaction must go past it. */
  compactedThrough: number
  compactedAtMs: number | null
  /** Folded records kept for the history window, and the state before the oldest of them. */
  history: MemoryRecord[]
  historyBase: Uint8Array | null
}

/** The latest receive time of a record (a loop: a record can hold more entries than a call takes arguments). */
const newestOf = (record: MemoryRecord): number => {
  let newest = 0
  for (const entry of record.entries)
    if (entry.meta.receivedAtMs > newest) newest = entry.meta.receivedAtMs
  return newest
}

/** A {@link DocStore} that keeps everything in memory; nothing survives the process. */
export class MemoryStore implements DocStore, LogHeads {
  readonly #docs = new Map<string, MemoryDoc>()
  readonly #historyMs: number
  readonly #feed = new MemoryFeed()
  readonly #state = new Map<string, string>()
  #closed = false

  /** `historyMs`: how long compaction keeps folded records for `history` (default 0: none). */
  constructor(options: { historyMs?: number } = {}) {
    const historyMs = options.historyMs ?? 0
    if (!Number.isSafeInteger(historyMs) || historyMs < 0) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `options.historyMs must be a non-negative integer of milliseconds, got ${String(historyMs)}`,
      )
    }
    this.#historyMs = historyMs
  }

  async load(name: string): Promise<StoredDoc> {
    this.#assertOpen()
    const doc = this.#docs.get(name)
    if (doc === undefined) return { snapshot: null, updates: [], headSeq: 0, logBytes: 0 }
    const updates = doc.log.flatMap((record) => record.entries.map((entry) => entry.update))
    const logBytes = updates.reduce((sum, update) => sum + update.length, 0)
    return { snapshot: doc.snapshot, updates, headSeq: doc.headSeq, logBytes }
  }

  get feedRetentionMs(): number {
    return this.#historyMs
  }

  /** The document's head sequence (see `LogHeads`): 0 for one it does not hold. */
  async headSeq(name: string): Promise<number> {
    this.#assertOpen()
    return this.#docs.get(name)?.headSeq ?? 0
  }

  /** The records after `afterSeq` (see `LogHeads.readLogAfter`). */
  async readLogAfter(name: string, afterSeq: number): Promise<LogTail | null> {
    this.#assertOpen()
    const doc = this.#docs.get(name)
    if (doc === undefined) return { updates: [], headSeq: 0 }
    if (afterSeq < doc.compactedThrough) return null
    const updates = doc.log
      .filter((record) => record.seq > afterSeq)
      .flatMap((record) => record.entries.map((entry) => entry.update))
    return { updates, headSeq: doc.headSeq }
  }

  async append(
    name: string,
    entries: readonly AppendEntry[],
    changes: readonly FeedChange[] = [],
  ): Promise<number> {
    this.#assertOpen()
    if (this.#historyMs > 0) this.#feed.add(name, changes)
    const doc = this.#doc(name)
    doc.headSeq += 1
    doc.log.push({
      seq: doc.headSeq,
      entries: entries.map((entry) => ({ update: entry.update.slice(), meta: { ...entry.meta } })),
    })
    return doc.headSeq
  }

  async compact(name: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    this.#assertOpen()
    const doc = this.#docs.get(name)
    // Stale (see DocStore.compact): an older snapshot must not replace a newer one.
    if (doc === undefined || throughSeq <= doc.compactedThrough || throughSeq > doc.headSeq) return
    const folded = doc.log.filter((record) => record.seq <= throughSeq)
    if (this.#historyMs > 0) {
      if (doc.historyBase === null && doc.history.length === 0 && doc.snapshot !== null)
        doc.historyBase = doc.snapshot
      const cutoff = Date.now() - this.#historyMs
      const all = [...doc.history, ...folded]
      let keep = all.findIndex((record) => newestOf(record) >= cutoff)
      if (keep < 0) keep = all.length
      const pruned = all.slice(0, keep).flatMap((record) => record.entries.map((e) => e.update))
      if (pruned.length > 0) {
        doc.historyBase = foldUpdates(
          doc.historyBase === null ? pruned : [doc.historyBase, ...pruned],
        )
      }
      doc.history = all.slice(keep)
    }
    doc.snapshot = snapshot.slice()
    doc.log = doc.log.filter((record) => record.seq > throughSeq)
    doc.compactedThrough = throughSeq
    doc.compactedAtMs = Date.now()
  }

  async history(name: string): Promise<DocHistory> {
    this.#assertOpen()
    const doc = this.#docs.get(name)
    if (doc === undefined) return { base: null, records: [] }
    const records: HistoryRecord[] = [...doc.history, ...doc.log]
    // No history folded yet: what came before the log is the snapshot.
    const base = doc.historyBase ?? (doc.history.length === 0 ? doc.snapshot : null)
    return { base, records }
  }

  async list(): Promise<DocSummary[]> {
    this.#assertOpen()
    return [...this.#docs].map(([name, doc]) => ({
      name,
      snapshotBytes: doc.snapshot?.length ?? 0,
      logBytes: doc.log.reduce(
        (sum, record) =>
          sum + record.entries.reduce((bytes, entry) => bytes + entry.update.length, 0),
        0,
      ),
      logRecords: doc.log.length,
      snapshotAtMs: doc.snapshot === null ? null : doc.compactedAtMs,
      lastWriteAtMs:
        doc.log.length > 0 ? newestOf(doc.log.at(-1) as MemoryRecord) : doc.compactedAtMs,
    }))
  }

  async delete(name: string, change?: FeedChange): Promise<void> {
    this.#assertOpen()
    this.#docs.delete(name)
    if (this.#historyMs > 0 && change !== undefined) this.#feed.add(name, [change])
  }

  async readFeed(after: number, limit: number): Promise<FeedPage> {
    this.#assertOpen()
    return this.#feed.read(after, limit)
  }

  async pruneFeed(nowMs = Date.now()): Promise<number> {
    this.#assertOpen()
    return this.#historyMs > 0 ? this.#feed.prune(nowMs - this.#historyMs) : 0
  }

  async readState(prefix: string): Promise<StateRecord[]> {
    this.#assertOpen()
    return [...this.#state]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, json]) => ({ key, value: JSON.parse(json) as unknown }))
  }

  async writeState(records: ReadonlyArray<{ key: string; value: unknown }>): Promise<void> {
    this.#assertOpen()
    // Serialized first, so a value that is not JSON changes nothing.
    const encoded = records.map(({ key, value }) => [key, stateJson(key, value)] as const)
    for (const [key, json] of encoded) {
      if (json === null) this.#state.delete(key)
      else this.#state.set(key, json)
    }
  }

  async close(): Promise<void> {
    this.#closed = true
  }

  #doc(name: string): MemoryDoc {
    let doc = this.#docs.get(name)
    if (doc === undefined) {
      doc = {
        snapshot: null,
        log: [],
        headSeq: 0,
        compactedThrough: 0,
        compactedAtMs: null,
        history: [],
        historyBase: null,
      }
      this.#docs.set(name, doc)
    }
    return doc
  }

  #assertOpen(): void {
    if (this.#closed) throw new WeftError('CLOSED', 'the memory store is closed')
  }
}
