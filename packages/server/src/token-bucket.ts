/** TokenBucket: a rate with a burst, for throttling what one connection may send. */

/**
 * Holds up to `burst` tokens and gains `perSecond` a second. Taking more than it holds leaves it
 * in debt; {@link waitMs} says how long until the debt is paid.
 */
export class TokenBucket {
  readonly #perSecond: number
  readonly #burst: number
  #tokens: number
  #updatedAtMs: number

  constructor(perSecond: number, burst: number, nowMs = Date.now()) {
    this.#perSecond = perSecond
    this.#burst = burst
    this.#tokens = burst
    this.#updatedAtMs = nowMs
  }

  /** Takes `amount` tokens (possibly into debt); returns the tokens left. */
  take(amount: number, nowMs = Date.now()): number {
    this.#refill(nowMs)
    this.#tokens -= amount
    return this.#tokens
  }

  /**
   * Takes `amount` tokens when the bucket holds them and returns 0; otherwise takes nothing and
   * returns the milliseconds until it will hold them (never into debt: for refusing, not pausing).
   */
  tryTake(amount: number, nowMs = Date.now()): number {
    this.#refill(nowMs)
    if (this.#tokens >= amount) {
      this.#tokens -= amount
      return 0
    }
    return Math.ceil(((amount - this.#tokens) / this.#perSecond) * 1000)
  }

  /** Milliseconds until the bucket is out of debt (0 when it is not in debt). */
  waitMs(nowMs = Date.now()): number {
    this.#refill(nowMs)
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#perSecond) * 1000)
  }

  #refill(nowMs: number): void {
    const elapsed = Math.max(0, nowMs - this.#updatedAtMs)
    this.#updatedAtMs = nowMs
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed / 1000) * this.#perSecond)
  }
}
