/** KeyedQueue: runs asynchronous calls one at a time per key, different keys side by side. */

/** Runs the calls given for one key one after another; calls for different keys overlap. */
export class KeyedQueue {
  /** The settling of the last call queued per key; a key leaves once its last call settled. */
  readonly #tails = new Map<string, Promise<void>>()

  /** Runs `operation` once every call queued before it for `key` has settled. */
  run<T>(key: string, operation: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve()
    const result = before.then(operation)
    const settled = result.then(
      () => undefined,
      () => undefined,
    )
    this.#tails.set(key, settled)
    void settled.then(() => {
      if (this.#tails.get(key) === settled) this.#tails.delete(key)
    })
    return result
  }

  /** Resolves once every call queued so far has settled. */
  async idle(): Promise<void> {
    await Promise.all(this.#tails.values())
  }
}
