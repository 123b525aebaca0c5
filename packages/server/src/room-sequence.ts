/** RoomSequence: which log records of a shared document a room holds, and catch-up when one is missing. */

/** How long a missing sequence number may stay missing before the room reads the store, in ms. */
export const GAP_GRACE_MS = 250

/** What a sequence tracker needs from its room. */
export interface RoomSequenceOptions {
  /** Where the log stood when the room loaded. */
  readonly headSeq: number
  /** Reads the store into the room; resolves with the head sequence it covered. */
  readonly catchUp: () => Promise<number>
  /** A catch-up failed (it is tried again after the grace period while the gap remains). */
  readonly failed: (error: unknown) => void
  /** Default {@link GAP_GRACE_MS}. */
  readonly graceMs?: number
}

/**
 * A room on a shared store holds every log record up to `through`, and some after it (its own
 * appends and those other relays announced). A record beyond the next expected one opens a gap:
 * records of other relays may arrive out of order, and the room's own append in flight may fill
 * it, so the room waits a grace period; a gap still open then is read from the store. One
 * catch-up at a time.
 */
export class RoomSequence {
  readonly #options: RoomSequenceOptions
  #through: number
  /** Records held beyond `through`. */
  readonly #held = new Set<number>()
  #highest: number
  #timer: ReturnType<typeof setTimeout> | null = null
  #catchingUp: Promise<void> | null = null
  #stopped = false

  constructor(options: RoomSequenceOptions) {
    this.#options = options
    this.#through = options.headSeq
    this.#highest = options.headSeq
  }

  /** Every record up to this one is in the room's document. */
  get through(): number {
    return this.#through
  }

  /** Whether record `seq` is in the document already. */
  holds(seq: number): boolean {
    return seq <= this.#through || this.#held.has(seq)
  }

  /** Record `seq` is in the document now. */
  add(seq: number): void {
    if (this.holds(seq)) return
    this.#held.add(seq)
    if (seq > this.#highest) this.#highest = seq
    this.#advance()
  }

  /** Reads the store now (a bus that came back, or a record announced without its bytes). */
  catchUp(): Promise<void> {
    if (this.#stopped) return Promise.resolve()
    this.#catchingUp ??= this.#options
      .catchUp()
      .then(
        (headSeq) => {
          if (headSeq > this.#highest) this.#highest = headSeq
          if (headSeq > this.#through) this.#through = headSeq
          for (const seq of this.#held) if (seq <= this.#through) this.#held.delete(seq)
        },
        (error: unknown) => this.#options.failed(error),
      )
      .finally(() => {
        this.#catchingUp = null
        this.#advance()
      })
    return this.#catchingUp
  }

  /** Stops the timer; nothing is read any more. */
  stop(): void {
    this.#stopped = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
  }

  #advance(): void {
    while (this.#held.delete(this.#through + 1)) this.#through += 1
    if (this.#through >= this.#highest) {
      if (this.#timer !== null) clearTimeout(this.#timer)
      this.#timer = null
      return
    }
    if (this.#timer !== null || this.#stopped || this.#catchingUp !== null) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      if (this.#through < this.#highest) void this.catchUp()
    }, this.#options.graceMs ?? GAP_GRACE_MS)
  }
}
