/** Waiters: the promises behind whenSynced() and whenSaved(), settled exactly once. */
import type { WeftError } from '@weft/protocol'

interface SavedWaiter {
  /** Resolve once no edit with a ref up to this one is waiting. */
  readonly ref: number
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}

interface Waiter {
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}

/** Keeps the pending `whenSynced()` and `whenSaved()` promises of one document. */
export class Waiters {
  #saved: SavedWaiter[] = []
  #synced: Waiter[] = []

  /** A promise resolved by {@link synced}. */
  waitSynced(): Promise<void> {
    return new Promise((resolve, reject) => this.#synced.push({ resolve, reject }))
  }

  /** A promise resolved once no edit up to `ref` waits (see {@link saved}). */
  waitSaved(ref: number): Promise<void> {
    return new Promise((resolve, reject) => this.#saved.push({ ref, resolve, reject }))
  }

  /** The document synced: resolve every `whenSynced()`. */
  synced(): void {
    for (const waiter of this.#synced) waiter.resolve()
    this.#synced = []
  }

  /** Edits were settled: resolve the `whenSaved()` calls none of whose edits still wait. */
  saved(oldestWaitingRef: number | undefined): void {
    const done = (waiter: SavedWaiter): boolean =>
      oldestWaitingRef === undefined || oldestWaitingRef > waiter.ref
    for (const waiter of this.#saved) if (done(waiter)) waiter.resolve()
    this.#saved = this.#saved.filter((waiter) => !done(waiter))
  }

  /** An edit can never be saved: reject the `whenSaved()` calls that include it. */
  refused(ref: number, error: WeftError): void {
    for (const waiter of this.#saved) if (waiter.ref >= ref) waiter.reject(error)
    this.#saved = this.#saved.filter((waiter) => waiter.ref < ref)
  }

  /** Rejects everything (the handle closed). */
  rejectAll(error: Error): void {
    for (const waiter of [...this.#saved, ...this.#synced]) waiter.reject(error)
    this.#saved = []
    this.#synced = []
  }
}
