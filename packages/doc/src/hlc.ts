/** HybridClock: hybrid logical clock timestamps for field writes — sortable, skew-tolerant. */

/**
 * A timestamp as a string that sorts like the time it stands for: 10 base-36 digits of wall
 * milliseconds, a dot, 5 base-36 digits of counter. Equal wall times are ordered by the counter.
 */
export type Stamp = string

const MS_DIGITS = 10
const COUNTER_DIGITS = 5
const MAX_COUNTER = 36 ** COUNTER_DIGITS - 1

/** Encodes wall milliseconds and a counter as a {@link Stamp}. */
export const encodeStamp = (ms: number, counter: number): Stamp =>
  `${ms.toString(36).padStart(MS_DIGITS, '0')}.${counter.toString(36).padStart(COUNTER_DIGITS, '0')}`

/** Decodes a {@link Stamp}; `null` when it is not one. */
export const decodeStamp = (stamp: unknown): { ms: number; counter: number } | null => {
  if (typeof stamp !== 'string' || stamp.length !== MS_DIGITS + 1 + COUNTER_DIGITS) return null
  if (stamp[MS_DIGITS] !== '.') return null
  const ms = Number.parseInt(stamp.slice(0, MS_DIGITS), 36)
  const counter = Number.parseInt(stamp.slice(MS_DIGITS + 1), 36)
  if (!Number.isSafeInteger(ms) || !Number.isSafeInteger(counter)) return null
  return encodeStamp(ms, counter) === stamp ? { ms, counter } : null
}

/**
 * A hybrid logical clock (Kulkarni et al.). Each local stamp is later than every stamp this
 * replica has made or seen, and follows the wall clock when that is ahead. A device whose clock
 * is behind therefore still stamps its writes after everything it has seen; one whose clock is
 * ahead pulls the others forward as soon as they see its stamps, so it cannot keep winning.
 */
export class HybridClock {
  readonly #now: () => number
  #ms = 0
  #counter = 0

  /** `now` returns wall milliseconds (injectable for tests of skewed clocks). */
  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  /** The wall clock this clock reads, in milliseconds (what records' `createdAt` holds). */
  wallMs(): number {
    return Math.floor(this.#now())
  }

  /** A new stamp, later than every stamp made or observed so far. */
  next(): Stamp {
    const wall = Math.floor(this.#now())
    if (wall > this.#ms) {
      this.#ms = wall
      this.#counter = 0
    } else {
      this.#advanceCounter()
    }
    return encodeStamp(this.#ms, this.#counter)
  }

  /** Takes a stamp seen from another replica into account; invalid stamps are ignored. */
  observe(stamp: Stamp): void {
    const seen = decodeStamp(stamp)
    if (seen === null) return
    if (seen.ms > this.#ms || (seen.ms === this.#ms && seen.counter > this.#counter)) {
      this.#ms = seen.ms
      this.#counter = seen.counter
    }
  }

  #advanceCounter(): void {
    if (this.#counter < MAX_COUNTER) {
      this.#counter += 1
      return
    }
    // Counter exhausted within one millisecond: move to the next millisecond.
    this.#ms += 1
    this.#counter = 0
  }
}
