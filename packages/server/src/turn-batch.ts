/** TurnBatch: updates taken during one turn of the event loop, handed on together. */
import * as Y from 'yjs'

/**
 * Collects updates and hands them to `apply` as one merged update in a microtask after the
 * current turn, or earlier through {@link flush}. A room applies other relays' updates this way:
 * while some structs wait for missing dependencies, Yjs merges them into every update it
 * applies, so one update per message under a steady stream could block the loop for seconds.
 */
export class TurnBatch {
  readonly #apply: (update: Uint8Array) => void
  #updates: Uint8Array[] = []
  #scheduled = false

  constructor(apply: (update: Uint8Array) => void) {
    this.#apply = apply
  }

  /** Takes `updates`; they are applied with the rest of this turn's. */
  add(updates: readonly Uint8Array[]): void {
    for (const update of updates) this.#updates.push(update)
    if (this.#scheduled) return
    this.#scheduled = true
    queueMicrotask(() => this.flush())
  }

  /** Applies what was taken so far, now (nothing when empty). */
  flush(): void {
    this.#scheduled = false
    const updates = this.#updates
    if (updates.length === 0) return
    this.#updates = []
    this.#apply(updates.length === 1 ? (updates[0] as Uint8Array) : Y.mergeUpdates(updates))
  }
}
