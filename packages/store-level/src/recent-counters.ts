/** RecentCounters: per-document counters kept for the documents used most recently, not for every one. */

/** Documents whose counters (log head, feed seq) a store keeps in memory. */
export const RECENT_DOCS = 10_000

/**
 * A map of document name → counter that holds at most `max` entries (plus any that may not be
 * forgotten yet). Setting an entry makes it the most recent; beyond `max`, the least recent
 * entries that `canForget` allows are dropped, and their documents' counters are read from disk
 * again when next needed. A relay that has written millions of documents thus remembers the
 * counters of its busy ones only.
 */
export class RecentCounters {
  readonly #max: number
  readonly #canForget: (name: string) => boolean
  readonly #entries = new Map<string, number>()

  constructor(max: number, canForget: (name: string) => boolean) {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`RecentCounters needs a positive integer size, got ${max}`)
    }
    this.#max = max
    this.#canForget = canForget
  }

  get size(): number {
    return this.#entries.size
  }

  get(name: string): number | undefined {
    return this.#entries.get(name)
  }

  set(name: string, value: number): void {
    this.#entries.delete(name)
    this.#entries.set(name, value)
    if (this.#entries.size > this.#max) this.#trim(name)
  }

  delete(name: string): void {
    this.#entries.delete(name)
  }

  clear(): void {
    this.#entries.clear()
  }

  /** Drops the least recent entries that may be forgotten, never `keep`, looking at a bounded few. */
  #trim(keep: string): void {
    let excess = this.#entries.size - this.#max
    let budget = excess + 64
    for (const name of this.#entries.keys()) {
      if (excess === 0 || budget-- === 0) return
      if (name === keep || !this.#canForget(name)) continue
      this.#entries.delete(name)
      excess--
    }
  }
}
