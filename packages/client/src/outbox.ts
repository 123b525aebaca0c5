/** Outbox: local edits not yet known to be durable on the relay, in the order they were made. */

/** One local edit waiting for the relay's `saved`. */
export interface OutboxEntry {
  /** Client-chosen reference the relay echoes in `saved` once the edit is on disk. */
  readonly ref: number
  /** The edit as a Yjs v1 update. */
  readonly update: Uint8Array
}

/**
 * Holds local edits until a `saved` from the relay covers them. Refs increase with every edit;
 * `saved(ref)` means every edit up to `ref` is durable (the relay acknowledges in order, and a
 * resync after reconnecting sends everything under the newest ref).
 */
export class Outbox {
  #entries: OutboxEntry[] = []
  #head = 0
  #bytes = 0
  #lastRef = 0

  /** Number of edits waiting. */
  get size(): number {
    return this.#entries.length - this.#head
  }

  /** Total bytes of the edits waiting. */
  get bytes(): number {
    return this.#bytes
  }

  /** The newest ref handed out (0 before any edit). */
  get lastRef(): number {
    return this.#lastRef
  }

  /** Adds an edit and returns its entry with a fresh ref. */
  push(update: Uint8Array): OutboxEntry {
    const entry = { ref: ++this.#lastRef, update }
    this.#entries.push(entry)
    this.#bytes += update.length
    return entry
  }

  /** Drops every entry with a ref up to `ref`; returns how many were dropped. */
  acknowledge(ref: number): number {
    const start = this.#head
    while (
      this.#head < this.#entries.length &&
      (this.#entries[this.#head] as OutboxEntry).ref <= ref
    ) {
      this.#bytes -= (this.#entries[this.#head] as OutboxEntry).update.length
      this.#head += 1
    }
    const dropped = this.#head - start
    // Compact the array once the acknowledged prefix dominates it.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head)
      this.#head = 0
    }
    return dropped
  }
}
