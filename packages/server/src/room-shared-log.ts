/**
 * RoomSharedLog: what a room on a store several relays share keeps of the shared log — which
 * records it holds, which life of the document — and how it exchanges updates with the other
 * relays over the bus.
 */
import { WeftError } from '@weft/protocol'
import type { RoomBusLink } from './bus-router.js'
import type { DocStore, StoredDoc } from './doc-store.js'
import { hasLogHeads, type LogTail } from './log-heads.js'
import type { Logger } from './logger.js'
import type { RelayMetrics } from './metrics.js'
import { RoomSequence, type CatchUpReason } from './room-sequence.js'

/** Records over this many bytes go over the bus without their bytes: receivers read the store. */
const MAX_BUS_RECORD_BYTES = 1024 * 1024

/** What the shared log needs from its room. */
export interface SharedLogRoom {
  readonly name: string
  /** Whether the room is closed or failed: nothing is applied any more. */
  readonly closed: () => boolean
  /** Applies updates from elsewhere and forwards what they changed; false if the room failed. */
  readonly applyRemote: (updates: readonly Uint8Array[]) => boolean
  /** Another relay deleted the document: the room fails with `error`. */
  readonly deleted: (error: WeftError) => void
}

/** What the shared log works with. */
export interface SharedLogOptions {
  readonly bus: RoomBusLink
  readonly store: DocStore
  readonly logger: Logger
  readonly metrics: RelayMetrics
  /** Where the log stood, and which life of the document it was, when the room loaded. */
  readonly headSeq: number
  readonly incarnation: string | undefined
}

/**
 * A room's end of the shared log. Each durable record of the room is published with its
 * sequence number, and a peer's update goes ahead of it at once (sequence 0); records of other
 * relays are applied as they come, gaps are read from the store (only the records after the
 * last one held, where the store can), and compaction never goes past what the room holds in
 * sequence. Appends name the life of the document the room holds (its incarnation), so a
 * document another relay deleted is never written back from what this room still holds.
 */
export class RoomSharedLog {
  readonly #room: SharedLogRoom
  readonly #options: SharedLogOptions
  readonly #sequence: RoomSequence
  #incarnation: string | undefined

  constructor(room: SharedLogRoom, options: SharedLogOptions) {
    this.#room = room
    this.#options = options
    this.#incarnation = options.incarnation
    const { store, logger, metrics } = options
    this.#sequence = new RoomSequence({
      headSeq: options.headSeq,
      catchUp: () => this.#catchUp(),
      ...(hasLogHeads(store) ? { readHead: () => store.headSeq(room.name) } : {}),
      failed: (error) =>
        logger.warn('catching up from the store failed', { doc: room.name, error: String(error) }),
      gapOpened: () => metrics.busGap(),
      caughtUp: (reason, seconds, ok) => metrics.caughtUp(reason, seconds, ok),
    })
  }

  /** Hooks of the room's writer: publish each record, stop compaction at a gap, name the life. */
  writerOptions(): {
    appended: (seq: number, updates: readonly Uint8Array[]) => void
    compactThroughSeq: () => number
    incarnation: { current: () => string | undefined; learned: (incarnation: string) => void }
  } {
    return {
      appended: (seq, updates) => {
        this.#sequence.add(seq)
        let bytes = 0
        for (const update of updates) bytes += update.length
        this.#publish(seq, bytes <= MAX_BUS_RECORD_BYTES ? updates : [])
      },
      // The document may lack records of other relays after the first gap: the snapshot must not
      // replace them.
      compactThroughSeq: () => this.#sequence.through,
      incarnation: {
        current: () => this.#incarnation,
        learned: (incarnation) => {
          this.#incarnation ??= incarnation
        },
      },
    }
  }

  /**
   * What a peer's update changed goes to the other relays at once, as it goes to the room's
   * peers, without waiting for the store (sequence 0: not durable yet); the durable record
   * follows with its sequence number, so a lost early copy costs only time. Not while the room
   * does not know which life of the document it holds (it loaded it absent and its first record
   * is not written yet): a relay that got such an update without its record, and missed a
   * deletion, could not tell that what it holds belongs to a deleted life.
   */
  publishAhead(update: Uint8Array): void {
    if (this.#incarnation === undefined && this.#options.store.keepsIncarnations === true) return
    if (update.length <= MAX_BUS_RECORD_BYTES) this.#publish(0, [update])
  }

  /**
   * An update of another relay: applied and forwarded like a peer's (not stored or published
   * again). Sequence 0 is one sent ahead of its record, which tracks nothing; a record announced
   * without its bytes is read from the store; one of another life of the document makes the
   * room check the store.
   */
  receive(seq: number, updates: readonly Uint8Array[], incarnation: string | undefined): void {
    if (this.#room.closed()) return
    if (incarnation !== undefined && incarnation !== this.#incarnation) {
      if (this.#incarnation !== undefined) {
        // Deleted and created again, or an old message: the store tells which the room holds.
        void this.#checkIncarnation()
        return
      }
      this.#incarnation = incarnation
    }
    if (seq === 0) {
      this.#room.applyRemote(updates)
      return
    }
    const sequence = this.#sequence
    if (sequence.holds(seq)) return
    if (updates.length === 0) {
      void sequence.catchUp('large-record')
      return
    }
    if (this.#room.applyRemote(updates)) sequence.add(seq)
  }

  /** Reads the store and applies what the document lacks (lost bus messages), for `reason`. */
  catchUp(reason: CatchUpReason): Promise<void> {
    return this.#sequence.catchUp(reason)
  }

  /** Stops the timers of the sequence; nothing is read any more. */
  stop(): void {
    this.#sequence.stop()
  }

  #publish(seq: number, updates: readonly Uint8Array[]): void {
    const { bus } = this.#options
    const incarnation = this.#incarnation
    bus.publish({
      kind: 'update',
      doc: this.#room.name,
      origin: bus.id,
      seq,
      updates,
      ...(incarnation === undefined ? {} : { incarnation }),
    })
  }

  /**
   * Reads what the room lacks: the log records after the last one it holds in sequence when the
   * store can (`LogHeads.readLogAfter`), else (or once compaction folded them) the whole
   * document. Resolves with the head it covered.
   */
  async #catchUp(): Promise<number> {
    const { store, logger } = this.#options
    const name = this.#room.name
    const tail =
      hasLogHeads(store) && store.readLogAfter !== undefined
        ? await store.readLogAfter(name, this.#sequence.through)
        : null
    const read = tail ?? fullRead(await store.load(name))
    if (this.#room.closed() || this.#deletedSince(read)) return read.headSeq
    if (read.updates.length > 0 && !this.#room.applyRemote(read.updates)) return 0
    logger.debug('caught up', { doc: name, seq: read.headSeq })
    return read.headSeq
  }

  /**
   * Whether the store holds another life of the document than the room (deleted by another
   * relay whose announcement this relay missed, maybe created again): then the room fails with
   * `DOC_DELETED`, so what it holds is not written into the new one.
   */
  #deletedSince(stored: { readonly incarnation?: string }): boolean {
    if (this.#incarnation === undefined || stored.incarnation === this.#incarnation) {
      this.#incarnation ??= stored.incarnation
      return false
    }
    const name = this.#room.name
    this.#room.deleted(new WeftError('DOC_DELETED', `document "${name}" was deleted`))
    this.#options.logger.info('document deleted on another relay', { doc: name })
    return true
  }

  async #checkIncarnation(): Promise<void> {
    try {
      const stored = await this.#options.store.load(this.#room.name)
      if (!this.#room.closed()) this.#deletedSince(stored)
    } catch (error) {
      this.#options.logger.warn('checking the document in the store failed', {
        doc: this.#room.name,
        error: String(error),
      })
    }
  }
}

/** A whole document as a log tail from nothing: its snapshot, then its log. */
const fullRead = (stored: StoredDoc): LogTail => ({
  updates: stored.snapshot === null ? stored.updates : [stored.snapshot, ...stored.updates],
  headSeq: stored.headSeq,
  ...(stored.incarnation === undefined ? {} : { incarnation: stored.incarnation }),
})
