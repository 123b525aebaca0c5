/** NamedTimers: a handful of one-shot timers addressed by name, cleared together. */

/** One-shot timers by name: setting one replaces it, and `clearAll` stops them all. */
export class NamedTimers<Name extends string> {
  readonly #timers = new Map<Name, ReturnType<typeof setTimeout>>()

  /** True while the timer `name` is waiting. */
  has(name: Name): boolean {
    return this.#timers.has(name)
  }

  /** Starts (or restarts) the timer `name`. */
  set(name: Name, delayMs: number, run: () => void): void {
    this.clear(name)
    this.#timers.set(
      name,
      setTimeout(() => {
        this.#timers.delete(name)
        run()
      }, delayMs),
    )
  }

  /** Stops the timer `name` if it is waiting. */
  clear(name: Name): void {
    const timer = this.#timers.get(name)
    if (timer === undefined) return
    clearTimeout(timer)
    this.#timers.delete(name)
  }

  /** Stops every timer. */
  clearAll(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
  }
}
