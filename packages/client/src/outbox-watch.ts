/** OutboxWatch: tells the app when a document's unsaved edits pass the bounds it set (backpressure). */
import type { Clock } from './clock.js'

/** Bounds on a document's unsaved edits (`ClientOptions.outboxLimits`); each is optional. */
export interface OutboxLimits {
  /** Edits waiting. */
  readonly edits?: number
  /** Bytes of the edits waiting. */
  readonly bytes?: number
  /** Age of the oldest edit waiting, in ms. */
  readonly ageMs?: number
}

/** Which bound an outbox passed. */
export type OutboxLimit = 'edits' | 'bytes' | 'age'

/** A document's unsaved edits, and the bounds they pass. */
export interface OutboxState {
  readonly pending: number
  readonly pendingBytes: number
  /** When the oldest edit waiting was made (ms since the epoch), or `null` when none waits. */
  readonly oldestPendingAt: number | null
  /** The bounds passed, in the order edits, bytes, age; empty when within them all. */
  readonly exceeded: readonly OutboxLimit[]
}

/**
 * Checks an outbox against its limits whenever asked ({@link check}) and, for the age limit, when
 * the oldest edit comes of age; reports the state each time the set of bounds passed changes
 * (passing one, and coming back within all).
 */
export class OutboxWatch {
  readonly #limits: OutboxLimits
  readonly #clock: Clock
  readonly #read: () => Omit<OutboxState, 'exceeded'>
  readonly #report: (state: OutboxState) => void
  #exceeded = ''
  #ageTimer: unknown = null

  constructor(
    limits: OutboxLimits,
    clock: Clock,
    read: () => Omit<OutboxState, 'exceeded'>,
    report: (state: OutboxState) => void,
  ) {
    this.#limits = limits
    this.#clock = clock
    this.#read = read
    this.#report = report
  }

  /** The outbox as it is now, with the bounds it passes. */
  state(): OutboxState {
    const now = this.#read()
    const { edits, bytes, ageMs } = this.#limits
    const exceeded: OutboxLimit[] = []
    if (edits !== undefined && now.pending > edits) exceeded.push('edits')
    if (bytes !== undefined && now.pendingBytes > bytes) exceeded.push('bytes')
    if (ageMs !== undefined && this.#ageOf(now.oldestPendingAt) > ageMs) exceeded.push('age')
    return { ...now, exceeded }
  }

  /** Compares the outbox with the limits; reports a change. */
  check(): void {
    const state = this.state()
    this.#armAgeTimer(state)
    const key = state.exceeded.join(',')
    if (key === this.#exceeded) return
    this.#exceeded = key
    this.#report(state)
  }

  /** Stops the age timer. */
  stop(): void {
    if (this.#ageTimer !== null) this.#clock.clearTimeout(this.#ageTimer)
    this.#ageTimer = null
  }

  #ageOf(oldestAt: number | null): number {
    return oldestAt === null ? 0 : this.#clock.wallNow() - oldestAt
  }

  /** Checks again when the oldest edit passes the age limit, unless it has already. */
  #armAgeTimer(state: OutboxState): void {
    this.stop()
    const { ageMs } = this.#limits
    if (ageMs === undefined || state.oldestPendingAt === null) return
    const remainingMs = ageMs - this.#ageOf(state.oldestPendingAt)
    if (remainingMs < 0) return
    this.#ageTimer = this.#clock.setTimeout(() => {
      this.#ageTimer = null
      this.check()
    }, remainingMs + 1)
  }
}
