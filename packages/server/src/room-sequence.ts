/** RoomSequence: which log records of a shared document a room holds, and catch-up when one is missing. */

/** How long a missing sequence number may stay missing before the room reads the store, in ms. */
export const GAP_GRACE_MS = 250

/**
 * How long after a room's last record (its own or another relay's) it checks the store's head
 * once, in ms: a lost message announcing a document's last record leaves no gap to notice.
 */
export const QUIET_CHECK_MS = 1_000

/** What a sequence tracker needs from its room. */
export interface RoomSequenceOptions {
  /** Where the log stood when the room loaded. */
  readonly headSeq: number
  /** Reads the store into the room; resolves with the head sequence it covered. */
  readonly catchUp: () => Promise<number>
  /** A catch-up failed (it is tried again after the grace period while the gap remains). */
  readonly failed: (error: unknown) => void
  /**
   * Reads the store's head sequence of the document without its records, for the check once
   * quiet; without it that check is a whole catch-up.
   */
  readonly readHead?: () => Promise<number>
  /** Default {@link GAP_GRACE_MS}. */
  readonly graceMs?: number
  /** Default {@link QUIET_CHECK_MS}. */
  readonly quietCheckMs?: number
}

/**
 * A room on a shared store holds every log record up to `through`, and some after it (its own
 * appends and those other relays announced). A record beyond the next expected one opens a gap:
 * records of other relays may arrive out of order, and the room's own append in flight may fill
 * it, so the room waits a grace period; a gap still open then is read from the store. One
 * catch-up at a time. A record after the last one announced leaves no gap: so a while after
 * the last record it held, the room reads the store's head once, and treats a later head like
 * an announced record. One such check is pending at most, and none once the room is quiet.
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
  /** The check once quiet, and when the room last held a new record (ms since the epoch). */
  #quietTimer: ReturnType<typeof setTimeout> | null = null
  #lastRecordAtMs = 0

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
    this.#lastRecordAtMs = Date.now()
    if (this.#quietTimer === null && !this.#stopped) this.#checkWhenQuiet(this.#quietCheckMs)
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

  /** Stops the timers; nothing is read any more. */
  stop(): void {
    this.#stopped = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    if (this.#quietTimer !== null) clearTimeout(this.#quietTimer)
    this.#quietTimer = null
  }

  get #quietCheckMs(): number {
    return this.#options.quietCheckMs ?? QUIET_CHECK_MS
  }

  /** Checks the store's head once `delayMs` from now, or later if a record arrives meanwhile. */
  #checkWhenQuiet(delayMs: number): void {
    // One timer per burst, moved on when it fires early, rather than one reset per record.
    this.#quietTimer = setTimeout(() => {
      this.#quietTimer = null
      if (this.#stopped) return
      const quietForMs = Date.now() - this.#lastRecordAtMs
      if (quietForMs < this.#quietCheckMs)
        return this.#checkWhenQuiet(this.#quietCheckMs - quietForMs)
      void this.#checkHead()
    }, delayMs)
  }

  async #checkHead(): Promise<void> {
    const { readHead } = this.#options
    if (readHead === undefined) return this.catchUp()
    let head: number
    try {
      head = await readHead()
    } catch (error) {
      return this.#options.failed(error)
    }
    if (this.#stopped || head <= this.#highest) return
    // As if the record had been announced: the grace period lets an own append in flight land.
    this.#highest = head
    this.#advance()
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
