/** NamedTimers: a handful of one-shot timers addressed by name, cleared together. */
import { systemClock, type Clock } from './clock.js'

/** One-shot timers by name: setting one replaces it, and `clearAll` stops them all. */
export class NamedTimers<Name extends string> {
  readonly #timers = new Map<Name, unknown>()
  readonly #clock: Clock

  /** Timers run on `clock` (default {@link systemClock}). */
  constructor(clock: Clock = systemClock) {
    this.#clock = clock
  }

  /** True while the timer `name` is waiting. */
  has(name: Name): boolean {
    return this.#timers.has(name)
  }

  /** Starts (or restarts) the timer `name`. */
  set(name: Name, delayMs: number, run: () => void): void {
    this.clear(name)
    this.#timers.set(
      name,
      this.#clock.setTimeout(() => {
        this.#timers.delete(name)
        run()
      }, delayMs),
    )
  }

  /** Stops the timer `name` if it is waiting. */
  clear(name: Name): void {
    if (!this.#timers.has(name)) return
    this.#clock.clearTimeout(this.#timers.get(name))
    this.#timers.delete(name)
  }

  /** Stops every timer. */
  clearAll(): void {
    for (const timer of this.#timers.values()) this.#clock.clearTimeout(timer)
    this.#timers.clear()
  }
}
