/** DocSession: one document on one connection — open, answered, synced, edits in flight, timers. */
import { traceFrame, type TraceContext, type WeftMessage } from '@weft/protocol'
import type { Clock } from './clock.js'
import type { EditTraces } from './client-tracing.js'
import { EditSender } from './edit-sender.js'
import { NamedTimers } from './named-timers.js'
import type { Outbox } from './outbox.js'
import type { OutboxRecord } from './local-store.js'

/** An encoded state vector that names no client: "send me everything". */
export const EMPTY_STATE_VECTOR = new Uint8Array([0])

/**
 * The session's timers: `reopen` after a retryable document error, `repair` of a lost update,
 * `ack` overdue.
 */
export type SessionTimer = 'reopen' | 'repair' | 'ack'

/** What a session needs from its document handle; shared by the handle's successive sessions. */
export interface SessionHost {
  readonly name: string
  send(message: WeftMessage): boolean
  /** The relay's frame limit, from `welcome`. */
  readonly maxMessageBytes: number
  /** The edits waiting for the relay (read each time: it is replaced once the local copy loads). */
  readonly outbox: Outbox
  /** The document's state vector now, for a resync's `open`. */
  stateVector(): Uint8Array
  /** An edit that can never be sent: over the relay's frame limit. */
  tooBig(ref: number, reason: string): void
  /** The spans of the document's edits. */
  readonly traces: EditTraces
  /** The connection carries trace contexts with edits (protocol version 4). */
  readonly carriesTraces: boolean
  readonly clock: Clock
  /** Edits unacknowledged this long trigger a fresh sync. */
  readonly ackTimeoutMs: number
}

/**
 * What one document knows about one connection. The handle replaces it with a fresh one when
 * the connection ends (down, paused, closed, or the relay closed the document), so nothing of
 * one connection leaks into the next: not its counters, not its send times, not its timers.
 */
export class DocSession {
  /** Batches the edits and remembers which refs each batch carried. */
  readonly sender: EditSender
  /** Cleared when the session ends. */
  readonly timers: NamedTimers<SessionTimer>
  readonly #host: SessionHost
  #opened = false
  /**
   * This open's `sync-step-2` (which carries every edit the relay lacks, under the newest ref) has
   * gone out. Live edits wait until then: `saved` is cumulative, so an edit sent ahead of older
   * outbox entries would have its acknowledgement cover edits the relay never received.
   */
  #answered = false
  #synced = false
  /** `open`s sent on this connection whose sync step 2 has not arrived. */
  #syncsAwaited = 0
  /** Of those, how many were sent before a reset's own `open` (see {@link openForReset}). */
  #syncsBeforeReset = 0
  /** When each outbox edit was first sent on this connection (for `saved`'s latency). */
  readonly #sentAt = new Map<number, number>()

  constructor(host: SessionHost) {
    this.#host = host
    this.timers = new NamedTimers(host.clock)
    this.sender = new EditSender({
      name: host.name,
      send: (message) => host.send(message),
      get maxMessageBytes() {
        return host.maxMessageBytes
      },
      waiting: (ref) => host.outbox.get(ref) !== undefined,
      tooBig: (ref, reason) => host.tooBig(ref, reason),
      tracesOf: (refs) => this.#tracesOf(refs.map((ref) => host.traces.contextOf(ref))),
    })
  }

  /** The document's `open` went out on this connection. */
  get opened(): boolean {
    return this.#opened
  }

  /** The relay's state arrived on this connection. */
  get synced(): boolean {
    return this.#synced
  }

  /** Some `open` sent on this connection still waits for its sync step 2. */
  get awaitingSync(): boolean {
    return this.#syncsAwaited > 0
  }

  /** Opens the document (again) with `stateVector`; returns whether `open` went out. */
  open(stateVector: Uint8Array): boolean {
    this.#answered = false
    this.#opened = this.sendOpen(stateVector)
    return this.#opened
  }

  /** Sends `open`; the relay answers each with one sync step 2. */
  sendOpen(stateVector: Uint8Array): boolean {
    const sent = this.#host.send({ type: 'open', doc: this.#host.name, stateVector })
    if (sent) this.#syncsAwaited += 1
    return sent
  }

  /** Asks the relay for a fresh sync (open again): repairs lost updates and lost acks. */
  resync(): void {
    this.sendOpen(this.#host.stateVector())
  }

  /** Asks for the relay's whole state; answers to the opens sent before it come first. */
  openForReset(): void {
    this.#syncsBeforeReset = this.#syncsAwaited
    this.sendOpen(EMPTY_STATE_VECTOR)
  }

  /**
   * A sync step 2 arrived. Returns true when it answers an `open` sent before the reset's own
   * (partial, applied as usual), false when it may be the answer to the reset.
   */
  syncArrived(): boolean {
    this.#syncsAwaited = Math.max(0, this.#syncsAwaited - 1)
    if (this.#syncsBeforeReset === 0) return false
    this.#syncsBeforeReset -= 1
    return true
  }

  /** Records that the relay's state arrived; returns false if it already had on this connection. */
  markSynced(): boolean {
    if (this.#synced) return false
    this.#synced = true
    return true
  }

  /** True when a whole update of `bytes` fits in one frame for this document. */
  fits(bytes: number): boolean {
    return this.sender.fits(bytes)
  }

  /** Answers the relay's sync step 1 with `update` (what it lacks) under the newest ref. */
  answer(update: Uint8Array): void {
    const { outbox } = this.#host
    const message = {
      type: 'sync-step-2',
      doc: this.#host.name,
      ref: outbox.lastRef,
      update,
    } as const
    const traces = this.#tracesOf(this.#host.traces.newestContexts())
    this.#host.send(traces === null ? message : traceFrame(message, traces))
    this.#answered = true
    this.#markSent(outbox.refs())
    if (outbox.size > 0) this.#armAckTimer()
  }

  /** Sends stored edits, once this connection's sync answer went out (else they travel in it). */
  sendEdits(records: readonly OutboxRecord[]): void {
    if (!this.#opened || !this.#answered) return
    this.#markSent(records.map((record) => record.ref))
    this.sender.send(records)
    this.#armAckTimer()
  }

  /**
   * `refs` are durable: forgets when they were sent and restarts the ack timer for the edits
   * still waiting. Returns the milliseconds since the oldest of them was first sent on this
   * connection, or `null` when none was.
   */
  settled(refs: readonly number[]): number | null {
    let sentAt = Number.POSITIVE_INFINITY
    for (const ref of refs) {
      sentAt = Math.min(sentAt, this.#sentAt.get(ref) ?? Number.POSITIVE_INFINITY)
      this.#sentAt.delete(ref)
    }
    const latencyMs = Number.isFinite(sentAt) ? this.#host.clock.now() - sentAt : null
    this.timers.clear('ack')
    this.#armAckTimer()
    return latencyMs
  }

  /** The connection ended for this document: stops the timers. */
  end(): void {
    this.timers.clearAll()
  }

  #markSent(refs: readonly number[]): void {
    const now = this.#host.clock.now()
    for (const ref of refs) if (!this.#sentAt.has(ref)) this.#sentAt.set(ref, now)
    this.#host.traces.sent(refs)
  }

  /** `traces` if the connection carries them and one is set, else `null` (send untraced). */
  #tracesOf(traces: Array<TraceContext | null>): Array<TraceContext | null> | null {
    if (!this.#host.carriesTraces || !traces.some((trace) => trace !== null)) return null
    return traces
  }

  #armAckTimer(): void {
    if (this.timers.has('ack') || this.#host.outbox.size === 0) return
    this.timers.set('ack', this.#host.ackTimeoutMs, () => {
      if (!this.#opened || this.#host.outbox.size === 0) return
      this.resync()
      this.#armAckTimer()
    })
  }
}
