/**
 * LevelFeed: the change feed's keys in a LevelStore — positions, per-document sequences, pruning.
 * It only reads and plans writes; the store commits them in its group commit, with the log
 * record or the deletion each change describes, so both become durable together.
 */
import type { FeedChange, FeedEntry, FeedPage } from '@weft/server/store'
import { FEED_META_KEY, feedKey, feedRange, feedSeqKey } from './keys.js'
import type { RecentCounters } from './recent-counters.js'
import type { StoreAccess } from './store-access.js'

type Put = { type: 'put'; key: string; value: Uint8Array }
type Del = { type: 'del'; key: string }

/** Where the feed stands: its newest position and the newest one retention removed. */
interface FeedMeta {
  head: number
  prunedThrough: number
}

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

/**
 * Counts positions and sequences in memory as the commit queue prepares writes (one job at a
 * time, in order, so they are consecutive in durable order), learning them from disk first.
 */
export class LevelFeed {
  readonly #options: StoreAccess
  #meta: FeedMeta | null = null
  readonly #docSeqs: RecentCounters

  /** `docSeqs` remembers each recently written document's last seq (the disk has them all). */
  constructor(options: StoreAccess, docSeqs: RecentCounters) {
    this.#options = options
    this.#docSeqs = docSeqs
  }

  /** The writes recording `changes` of document `name` at the next positions. */
  async add(name: string, changes: readonly FeedChange[]): Promise<Put[]> {
    const meta = (this.#meta ??= await this.#readMeta())
    let seq = this.#docSeqs.get(name) ?? (await this.#readSeq(name))
    const puts: Put[] = []
    for (const change of changes) {
      meta.head += 1
      seq += 1
      const entry: FeedEntry = { ...change, position: meta.head, doc: name, seq }
      puts.push(this.#put(feedKey(meta.head), entry))
    }
    this.#docSeqs.set(name, seq)
    puts.push(this.#put(feedSeqKey(name), { seq }), this.#put(FEED_META_KEY, { ...meta }))
    return puts
  }

  /** The writes removing entries received before `cutoffMs`, up to the first newer one. */
  async prune(cutoffMs: number): Promise<{ removed: number; ops: Array<Put | Del> }> {
    const meta = (this.#meta ??= await this.#readMeta())
    const ops: Array<Put | Del> = []
    // Bounded, so one pruning write stays small; the next call goes on.
    for (const [key, value] of await this.#options.db
      .iterator({ ...feedRange(meta.prunedThrough), limit: 10_000 })
      .all()) {
      const entry = this.#parse<FeedEntry>(key, value)
      if (entry.receivedAtMs >= cutoffMs) break
      ops.push({ type: 'del', key })
      meta.prunedThrough = entry.position
    }
    if (ops.length > 0) ops.push(this.#put(FEED_META_KEY, { ...meta }))
    return { removed: ops.length === 0 ? 0 : ops.length - 1, ops }
  }

  /** Up to `limit` durable entries after `after`. */
  async read(after: number, limit: number): Promise<FeedPage> {
    const rows = await this.#options.db.iterator({ ...feedRange(after), limit }).all()
    const entries = rows.map(([key, value]) => this.#parse<FeedEntry>(key, value))
    // Read after the entries: a pruning in between shows in prunedThrough, never as a gap.
    const meta = await this.#readMeta()
    const head = Math.max(meta.head, entries.at(-1)?.position ?? 0)
    return { entries, head, prunedThrough: meta.prunedThrough }
  }

  /** Drops what was counted in memory (a write failed): the next write reads the disk again. */
  forget(): void {
    this.#meta = null
    this.#docSeqs.clear()
  }

  async #readMeta(): Promise<FeedMeta> {
    const value = await this.#options.db.get(FEED_META_KEY)
    if (value === undefined) return { head: 0, prunedThrough: 0 }
    const meta = this.#parse<Partial<FeedMeta>>(FEED_META_KEY, value)
    return { head: meta.head ?? 0, prunedThrough: meta.prunedThrough ?? 0 }
  }

  async #readSeq(name: string): Promise<number> {
    const value = await this.#options.db.get(feedSeqKey(name))
    return value === undefined
      ? 0
      : (this.#parse<{ seq?: number }>(feedSeqKey(name), value).seq ?? 0)
  }

  #put(key: string, value: unknown): Put {
    return {
      type: 'put',
      key,
      value: this.#options.seal(key, textEncoder.encode(JSON.stringify(value))),
    }
  }

  #parse<T>(key: string, value: Uint8Array): T {
    return JSON.parse(textDecoder.decode(this.#options.open(key, value))) as T
  }
}
