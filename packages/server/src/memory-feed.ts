/** MemoryFeed: the change feed of a store kept in process memory (MemoryStore's). */
import type { FeedChange, FeedEntry, FeedPage } from './doc-store.js'

/**
 * Feed entries in position order, with each document's sequence (kept after a deletion, so a
 * document's sequence numbers are never reused).
 */
export class MemoryFeed {
  #entries: FeedEntry[] = []
  #head = 0
  #prunedThrough = 0
  readonly #docSeqs = new Map<string, number>()

  /** Records `changes` of document `name` at the next positions. */
  add(name: string, changes: readonly FeedChange[]): void {
    let seq = this.#docSeqs.get(name) ?? 0
    for (const change of changes) {
      this.#head += 1
      seq += 1
      this.#entries.push({
        ...change,
        events: structuredClone(change.events) as FeedEntry['events'],
        position: this.#head,
        doc: name,
        seq,
      })
    }
    this.#docSeqs.set(name, seq)
  }

  read(after: number, limit: number): FeedPage {
    // Entries are in position order; positions are consecutive after the pruned ones.
    const start = Math.max(0, after - this.#prunedThrough)
    return {
      entries: this.#entries.slice(start, start + Math.max(0, limit)),
      head: this.#head,
      prunedThrough: this.#prunedThrough,
    }
  }

  /** Removes entries received before `cutoffMs`, up to the first newer one; returns how many. */
  prune(cutoffMs: number): number {
    let removed = 0
    while (removed < this.#entries.length && this.#entries[removed]!.receivedAtMs < cutoffMs)
      removed += 1
    if (removed === 0) return 0
    this.#prunedThrough = this.#entries[removed - 1]!.position
    this.#entries = this.#entries.slice(removed)
    return removed
  }
}
