/** RoomSequence: which log records of a shared document a room holds, and catch-up when one is missing. */

/** How long a missing sequence number may stay missing before the room reads the store, in ms. */
export const GAP_GRACE_MS = 250

/**
 * How long after a room's last record (its own or another relay's) it checks the store's head
 * once, in ms: a lost message announcing a document's last record leaves no gap to notice.
 */
export const QUIET_CHECK_MS = 1_000

/**
 * Why a room reads the store for records the bus did not bring it:
 * - `gap`: a record arrived beyond the next one expected, and the gap outlived the grace period;
 * - `quiet`: the check of a quiet document's head found records nobody announced (or, on a store
 *   that cannot read a head alone, every such check);
 * - `reconnect`: the bus came back after an outage;
 * - `load`: the room loaded before its subscription was active, or more messages arrived while
 *   it loaded than wait for it;
 * - `large-record`: a record was announced without its bytes (too large for the bus);
 * - `admin`: an operator's read of the document (inspect, export) wants the latest records.
 */
export type CatchUpReason = 'gap' | 'quiet' | 'reconnect' | 'load' | 'large-record' | 'admin'

/** What a sequence tracker needs from its room. */
export interface RoomSequenceOptions {
  /** Where the log stood when the room loaded. */
  readonly headSeq: number
  /** Reads the store into the room; resolves with the head sequence it covered. */
  readonly catchUp: () => Promise<number>
  /** A catch-up failed (it is tried again after the grace period while the gap remains). */
  readonly failed: (error: unknown) => void
  /**
   * A record arrived (announced or appended) beyond the next one expected while the sequence was
   * whole: a gap opened. Most fill within the grace period (records of several relays cross on
   * the bus); the rest are read from the store. Default: nothing.
   */
  readonly gapOpened?: () => void
  /**
   * A catch-up started for `reason` ended after `seconds`; `ok` is false when it failed. A
   * catch-up asked for while one runs joins it and is not reported again. Default: nothing.
   */
  readonly caughtUp?: (reason: CatchUpReason, seconds: number, ok: boolean) => void
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
 * Each catch-up is reported with the reason that started it.
 */
export class RoomSequence {
  readonly #options: RoomSequenceOptions
  #through: number
  /** Records held beyond `through`. */
  readonly #held = new Set<number>()
  #highest: number
  /** What opened the gap the timer waits on: a record beyond the next one, or a head read. */
  #gapReason: 'gap' | 'quiet' = 'gap'
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
    if (this.#through >= this.#highest && seq > this.#through + 1) {
      this.#gapReason = 'gap'
      this.#options.gapOpened?.()
    }
    this.#held.add(seq)
    if (seq > this.#highest) this.#highest = seq
    this.#advance()
    this.#lastRecordAtMs = Date.now()
    if (this.#quietTimer === null && !this.#stopped) this.#checkWhenQuiet(this.#quietCheckMs)
  }

  /**
   * Reads the store now, for `reason` (a bus that came back, a record announced without its
   * bytes); joins the catch-up already running, if any.
   */
  catchUp(reason: CatchUpReason): Promise<void> {
    if (this.#stopped) return Promise.resolve()
    this.#catchingUp ??= this.#readStore(reason)
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

  #readStore(reason: CatchUpReason): Promise<void> {
    const startedMs = performance.now()
    const report = (ok: boolean): void =>
      this.#options.caughtUp?.(reason, (performance.now() - startedMs) / 1000, ok)
    return this.#options
      .catchUp()
      .then(
        (headSeq) => {
          if (headSeq > this.#highest) this.#highest = headSeq
          if (headSeq > this.#through) this.#through = headSeq
          for (const seq of this.#held) if (seq <= this.#through) this.#held.delete(seq)
          report(true)
        },
        (error: unknown) => {
          this.#options.failed(error)
          report(false)
        },
      )
      .finally(() => {
        this.#catchingUp = null
        this.#advance()
      })
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
    if (readHead === undefined) return this.catchUp('quiet')
    let head: number
    try {
      head = await readHead()
    } catch (error) {
      return this.#options.failed(error)
    }
    if (this.#stopped || head <= this.#highest) return
    // As if the record had been announced: the grace period lets an own append in flight land.
    if (this.#through >= this.#highest) this.#gapReason = 'quiet'
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
      if (this.#through < this.#highest) void this.catchUp(this.#gapReason)
    }, this.#options.graceMs ?? GAP_GRACE_MS)
  }
}
