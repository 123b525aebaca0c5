/** LocalEdits: a document's local edits from the moment they are made until the relay has them. */
import type { Span } from '@opentelemetry/api'
import * as Y from 'yjs'
import type { TraceContext } from '@weft/protocol'
import type { EditTraces } from './client-tracing.js'
import type { LocalPersistence } from './local-persistence.js'
import type { LocalDoc, OutboxRecord } from './local-store.js'
import { Outbox } from './outbox.js'
import { wantsOutboxMerge, type OutboxCompaction } from './outbox-compaction.js'

/** Origin of the transactions that apply known state (the local copy, a rebuild): not new edits. */
export const LOCAL_COPY = Symbol('weft-local-copy')

/** What the edits need from their document handle. */
export interface LocalEditsHost {
  /** Puts stored edits on the wire (if the document is open and answered on a connection). */
  send(records: readonly OutboxRecord[]): void
  /** The number of edits waiting changed: emit `pending`. */
  pendingChanged(pending: number): void
  /** Now, in ms since the epoch. */
  wallNow(): number
  /** When the waiting edits are merged into one; `null`: never. */
  readonly compaction: OutboxCompaction | null
  /** The document's state beyond `stateVector`, as one update. */
  encodeStateSince(stateVector: Uint8Array): Uint8Array
  /** The spans of the document's edits. */
  readonly traces: EditTraces
}

/** An encoded state vector that names no client: the whole document. */
const NOTHING_DURABLE = new Uint8Array([0])

/**
 * Edits made before the local copy has loaded are held (their refs must follow the stored ones).
 * After that each edit gets a ref in the outbox, is written to the local store, and is sent
 * only once written: edits of one tick share one local write and then leave together.
 *
 * When the outbox passes the compaction policy's bounds, its entries are merged into one: the
 * document's state beyond the last state vector the relay reported durable (the whole document
 * before any), which holds every waiting edit and is about the document's size however many
 * keystrokes made it (merging the edits' own updates keeps every character ever typed: on the
 * automerge-paper trace, 3.07 MB against the document's 289 KB). It replaces them in memory and in
 * the local store in one write, and carries the newest of their refs.
 */
export class LocalEdits {
  readonly #persistence: LocalPersistence
  readonly #host: LocalEditsHost
  #outbox = new Outbox()
  /** Edits made before the local copy loaded; `null` once it has (or could not be read). */
  #early: Uint8Array[] | null = []
  /** Their spans, in the same order. */
  #earlySpans: Array<Span | null> = []
  /** When the first of them was made. */
  #earlyAtMs: number | null = null
  /** Edits of the local write in progress, sent once it is written. */
  #unsent: OutboxRecord[] = []
  #unsentWrite: Promise<void> | null = null
  #pendingEmitScheduled = false
  /** Updates forwarded from another tab are being applied (recorded by {@link forward}). */
  #forwarding = false
  /** What the relay last reported durable (a merge holds the document beyond it). */
  #durable: Uint8Array = NOTHING_DURABLE
  /** The document holds edits set aside after a refusal: merging would take them in again. */
  #mergingPaused = false

  constructor(persistence: LocalPersistence, host: LocalEditsHost) {
    this.#persistence = persistence
    this.#host = host
  }

  /** The edits waiting for the relay, by ref (a new one once the local copy has loaded). */
  get outbox(): Outbox {
    return this.#outbox
  }

  /** True until the local copy has loaded: edits are held meanwhile. */
  get loading(): boolean {
    return this.#early !== null
  }

  /** Edits the relay has not reported durable, held ones included (each merged one counts). */
  get pending(): number {
    return this.#outbox.edits + (this.#early?.length ?? 0)
  }

  /** Bytes of those edits. */
  get pendingBytes(): number {
    return this.#outbox.bytes + (this.#early ?? []).reduce((sum, update) => sum + update.length, 0)
  }

  /**
   * When the oldest of those edits was made (ms since the epoch; for edits restored from the
   * local store, when they were restored), or `null` when none waits.
   */
  get oldestPendingAt(): number | null {
    return this.#early !== null && this.#early.length > 0
      ? this.#earlyAtMs
      : this.#outbox.oldestAtMs
  }

  /** A local edit: held while the local copy loads, recorded after. */
  add(update: Uint8Array): void {
    if (this.#forwarding) return
    const span = this.#host.traces.begin(update.length)
    if (this.#early === null) return this.record([update], [span])
    if (this.#early.length === 0) this.#earlyAtMs = this.#host.wallNow()
    this.#early.push(update)
    this.#earlySpans.push(span)
  }

  /**
   * Applies edits another tab made to `doc` with `origin`, and records them byte for byte, even
   * where `doc` already had their content: their acknowledgement must come from the relay, never
   * from a copy here. Returns the ref whose acknowledgement covers them. Only once loaded.
   */
  forward(
    doc: Y.Doc,
    updates: readonly Uint8Array[],
    origin: object,
    traces: ReadonlyArray<TraceContext | null> = [],
  ): number {
    this.#forwarding = true
    try {
      Y.transact(
        doc,
        () => {
          for (const update of updates) Y.applyUpdate(doc, update, origin)
        },
        origin,
      )
    } finally {
      this.#forwarding = false
    }
    this.record(updates, [], traces)
    return this.#outbox.lastRef
  }

  /**
   * Outbox, then local store, then the wire: an edit is sent only once it is stored. Edits of
   * one tick share one local write and then leave together, in as few frames as the relay's
   * limit allows.
   */
  record(
    updates: readonly Uint8Array[],
    spans: ReadonlyArray<Span | null> = [],
    adopted: ReadonlyArray<TraceContext | null> = [],
  ): void {
    const atMs = this.#host.wallNow()
    const records = updates.map((update) => this.#outbox.push(update, atMs))
    const { traces } = this.#host
    records.forEach(({ ref }, index) => {
      traces.bind(ref, spans[index] ?? null)
      traces.adopt(ref, adopted[index] ?? null)
    })
    this.pendingChanged()
    const written = this.#persistence.recordLocal(records)
    if (written !== this.#unsentWrite) {
      const group: OutboxRecord[] = []
      this.#unsentWrite = written
      this.#unsent = group
      void written.then(() => this.#host.send(group))
    }
    for (const record of records) this.#unsent.push(record)
    this.#mergeIfDue()
  }

  /**
   * The local copy loaded: applies it to `doc` (as {@link LOCAL_COPY}), restores its outbox, then
   * records the edits held meanwhile.
   */
  restore(doc: Y.Doc, stored: LocalDoc): void {
    Y.transact(
      doc,
      () => {
        if (stored.snapshot !== null) Y.applyUpdate(doc, stored.snapshot)
        for (const update of stored.updates) Y.applyUpdate(doc, update)
        for (const record of stored.outbox) Y.applyUpdate(doc, record.update)
      },
      LOCAL_COPY,
    )
    this.#outbox = new Outbox(stored.lastRef)
    const restoredAtMs = this.#host.wallNow()
    for (const record of stored.outbox) this.#outbox.restore(record, restoredAtMs)
    const early = this.#early ?? []
    const spans = this.#earlySpans
    this.#early = null
    this.#earlySpans = []
    if (early.length > 0) this.record(early, spans)
    else this.#mergeIfDue()
  }

  /** The local copy could not be read: stops holding edits (the held ones are not recorded). */
  abandonEarly(): void {
    this.#early = null
    for (const span of this.#earlySpans) span?.end()
    this.#earlySpans = []
  }

  /**
   * The relay reported `ref` durable, with `stateVector`: removes the edits that settles from the
   * outbox and the local store, and returns their refs.
   */
  settle(ref: number, stateVector: Uint8Array): number[] {
    let durable: Map<number, number> | null = null
    try {
      durable = Y.decodeStateVector(stateVector)
      this.#durable = stateVector
    } catch {
      // A malformed state vector settles nothing more, and merges keep the last good one.
    }
    const settled = this.#outbox.acknowledge(ref)
    // The relay's first `saved` after an open (ref 0) tells what is on disk from earlier
    // connections, whose acknowledgements may have been lost with them; later ones come in order
    // and settle by ref alone, so the outbox is not rescanned on every acknowledgement.
    if (ref === 0 && this.#outbox.size > 0 && durable !== null) {
      for (const covered of this.#outbox.settleCovered(durable)) settled.push(covered)
    }
    if (settled.length > 0) this.#persistence.acknowledge(settled)
    this.#host.traces.saved(settled)
    return settled
  }

  /** Removes edit `ref` (refused with `code`) from the outbox and the local store. */
  remove(ref: number, code: string, reason: string): void {
    this.#outbox.remove(ref)
    this.#persistence.acknowledge([ref])
    this.#host.traces.refused(ref, code, reason)
  }

  /** A refusal set edits aside that the document still holds: no merging until it is rebuilt. */
  pauseMerging(): void {
    this.#mergingPaused = true
  }

  /** The document was rebuilt without the edits set aside: merging may resume. */
  resumeMerging(): void {
    this.#mergingPaused = false
    this.#mergeIfDue()
  }

  /** Reports `pending` once per tick however many edits were made in it. */
  pendingChanged(): void {
    if (this.#pendingEmitScheduled) return
    this.#pendingEmitScheduled = true
    queueMicrotask(() => {
      this.#pendingEmitScheduled = false
      this.#host.pendingChanged(this.pending)
    })
  }

  /** Merges the outbox into one entry when the policy says so (see the class comment). */
  #mergeIfDue(): void {
    const policy = this.#host.compaction
    if (policy === null || this.#mergingPaused || !wantsOutboxMerge(this.#outbox, policy)) return
    const merged = this.#outbox.mergeAll(this.#host.encodeStateSince(this.#durable))
    this.#persistence.replaceOutbox(merged.replaced, merged.record)
    this.#host.traces.merged(merged.replaced, merged.record.ref)
  }
}
