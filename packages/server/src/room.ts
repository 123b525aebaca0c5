/** Room: one loaded document, its peers, and the path receive → apply → fan out → persist → ack. */
import { decodeStateVector, summarizeUpdate } from '@weft/doc'
import { WeftError } from '@weft/protocol'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { AppendEntry, DocStore } from './doc-store.js'
import type { Logger } from './logger.js'
import { Outgoing, type Dialect } from './outgoing.js'

/** A connection's view of one room: how the room reaches it. */
export interface RoomPeer {
  readonly dialect: Dialect
  /** Identity written beside this peer's updates in the log. */
  readonly author: string
  readonly correlationId: string
  /** A message from another peer of the room. */
  deliver(message: Outgoing): void
  /**
   * Everything this peer sent with a ref up to `ref`, and everything `stateVector` covers, is
   * durable.
   */
  saved(ref: number, stateVector: Uint8Array): void
  /** The room failed and is gone; the peer has been removed from it. */
  roomFailed(error: WeftError): void
}

/** Settings of a room, resolved by the relay. */
export interface RoomSettings {
  readonly store: DocStore
  readonly logger: Logger
  /** Compact the log into the snapshot once it holds this many entries. */
  readonly compactAfterUpdates: number
  /** …or this many bytes. */
  readonly compactAfterBytes: number
  /** Called once when the room fails, so its owner can forget it. */
  readonly onFailed: (room: Room) => void
}

interface PendingWrite {
  /** What to append; empty when the updates changed nothing and only need an ack. */
  readonly updates: readonly Uint8Array[]
  readonly peer: RoomPeer
  readonly ref: number
  readonly receivedAtMs: number
}

/**
 * One document in memory. Updates are validated, applied, fanned out to the other peers at once,
 * and queued; each event-loop turn's queue becomes one append, and its writers get `saved` once
 * the store reports it durable. A storage failure fails the room: no further acks, every peer is
 * told, and the owner drops it so the next load comes from disk.
 */
export class Room {
  readonly name: string
  readonly doc: Y.Doc
  readonly awareness: awarenessProtocol.Awareness
  readonly #settings: RoomSettings
  readonly #peers = new Set<RoomPeer>()
  readonly #awarenessOwners = new Map<RoomPeer, Set<number>>()
  #queue: PendingWrite[] = []
  #flushScheduled = false
  #tail: Promise<void> = Promise.resolve()
  #emitted: Uint8Array | null = null
  #changed = false
  #durableStateVector: Uint8Array
  #durableSeq: number
  #logEntries: number
  #logBytes: number
  #compaction: Promise<void> | null = null
  #failure: WeftError | null = null
  #closed = false

  /** Loads `name` from the store. Throws `UNAVAILABLE` when the store or the stored data fails. */
  static async load(name: string, settings: RoomSettings): Promise<Room> {
    const doc = new Y.Doc()
    try {
      const stored = await settings.store.load(name)
      Y.transact(doc, () => {
        if (stored.snapshot !== null) Y.applyUpdate(doc, stored.snapshot)
        for (const update of stored.updates) Y.applyUpdate(doc, update)
      })
      return new Room(name, doc, stored.headSeq, stored.updates.length, stored.logBytes, settings)
    } catch (cause) {
      doc.destroy()
      throw new WeftError('UNAVAILABLE', `document "${name}" could not be loaded`, { cause })
    }
  }

  private constructor(
    name: string,
    doc: Y.Doc,
    headSeq: number,
    logEntries: number,
    logBytes: number,
    settings: RoomSettings,
  ) {
    this.name = name
    this.doc = doc
    this.#settings = settings
    this.#durableSeq = headSeq
    this.#logEntries = logEntries
    this.#logBytes = logBytes
    this.#durableStateVector = Y.encodeStateVector(doc)
    doc.on('afterTransaction', (transaction: Y.Transaction) => {
      this.#changed ||= transactionChanged(transaction)
    })
    this.awareness = new awarenessProtocol.Awareness(doc)
    this.awareness.setLocalState(null)
    this.awareness.on('update', this.#trackAwareness)
  }

  /** Number of peers in the room. */
  get peerCount(): number {
    return this.#peers.size
  }

  /** The failure that ended this room, if any. */
  get failure(): WeftError | null {
    return this.#failure
  }

  /** The state vector of everything known to be on disk. */
  get durableStateVector(): Uint8Array {
    return this.#durableStateVector
  }

  /** Adds a peer; it receives every later update and awareness change of the other peers. */
  join(peer: RoomPeer): void {
    this.#assertUsable()
    this.#peers.add(peer)
  }

  /** Removes a peer and withdraws the awareness states it announced. */
  leave(peer: RoomPeer): void {
    if (!this.#peers.delete(peer)) return
    const owned = this.#awarenessOwners.get(peer)
    this.#awarenessOwners.delete(peer)
    if (owned === undefined || owned.size === 0 || this.#closed) return
    const ids = [...owned]
    awarenessProtocol.removeAwarenessStates(this.awareness, ids, 'leave')
    const known = ids.filter((id) => this.awareness.meta.has(id))
    if (known.length === 0) return
    const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, known)
    this.#broadcast(new Outgoing(this.name, { kind: 'awareness', update }), null)
  }

  /** The room's state vector. */
  stateVector(): Uint8Array {
    return Y.encodeStateVector(this.doc)
  }

  /** What a peer with `stateVector` lacks, or `BAD_MESSAGE` when the state vector is malformed. */
  diff(stateVector: Uint8Array): Uint8Array | WeftError {
    const decoded = decodeStateVector(stateVector)
    if (!decoded.ok) return decoded.error
    return Y.encodeStateAsUpdate(this.doc, stateVector)
  }

  /** An awareness update with every known state, or `null` when nobody is present. */
  awarenessStates(): Uint8Array | null {
    const ids = [...this.awareness.getStates().keys()]
    return ids.length === 0 ? null : awarenessProtocol.encodeAwarenessUpdate(this.awareness, ids)
  }

  /**
   * Applies an update from `peer`. A malformed update is refused whole (`BAD_UPDATE`) before it
   * touches the document. The change goes to the other peers at once; the update is appended in
   * this turn's batch and `peer.saved(ref, …)` follows once it is durable.
   */
  applyUpdate(
    peer: RoomPeer,
    update: Uint8Array,
    ref: number,
    syncStep2 = false,
  ): WeftError | undefined {
    return this.applyUpdates(peer, [update], ref, syncStep2)
  }

  /**
   * Applies a batch of updates from `peer` in one Yjs transaction: all of them, or, if any is
   * malformed, none (`BAD_UPDATE`, checked before anything touches the document).
   *
   * Sync step 2 (which may repeat much of what the room has), and any update while the document
   * has structs waiting for dependencies, is forwarded and stored as what Yjs emits: only what
   * was new, including what it completed, at the cost of re-encoding it. Other live updates are
   * forwarded and stored as received, which is cheaper and equivalent.
   */
  applyUpdates(
    peer: RoomPeer,
    updates: readonly Uint8Array[],
    ref: number,
    syncStep2 = false,
  ): WeftError | undefined {
    if (this.#failure !== null) return this.#failure
    let empty = true
    for (const update of updates) {
      const summary = summarizeUpdate(update)
      if (!summary.ok) return summary.error
      if (!summary.summary.isEmpty) empty = false
    }
    let forward: Outgoing | null = null
    let stored: readonly Uint8Array[] = []
    if (!empty) {
      // With structs or deletions waiting for dependencies, these updates may complete them, and
      // their own bytes would not carry them to the other peers: forward what Yjs emits instead.
      const exact = syncStep2 || this.#hasPending()
      this.#changed = false
      this.#emitted = null
      if (exact) this.doc.on('update', this.#captureEmitted)
      try {
        Y.transact(
          this.doc,
          () => {
            for (const update of updates) Y.applyUpdate(this.doc, update, peer)
          },
          peer,
        )
      } catch (cause) {
        // Yjs may have integrated part of it: memory no longer matches the store.
        this.#fail(
          new WeftError('INTERNAL', `applying an update to "${this.name}" failed`, { cause }),
        )
        return new WeftError('BAD_UPDATE', 'the update could not be applied', { cause })
      } finally {
        if (exact) this.doc.off('update', this.#captureEmitted)
      }
      const emitted = this.#emitted as Uint8Array | null
      if (exact && emitted !== null)
        forward = new Outgoing(this.name, { kind: 'update', update: emitted })
      if (!exact && this.#changed) forward = this.#outgoingOf(updates)
      // Structs waiting for missing dependencies are only in the raw updates: store them whole.
      stored = this.#hasPending() ? updates : (forward?.updates ?? [])
    }
    if (forward !== null) this.#broadcast(forward, peer)
    this.#enqueue({ updates: stored, peer, ref, receivedAtMs: Date.now() })
    return undefined
  }

  /** Applies an awareness update from `peer` and forwards it to the other peers. */
  applyAwareness(peer: RoomPeer, update: Uint8Array): WeftError | undefined {
    if (this.#failure !== null) return this.#failure
    try {
      awarenessProtocol.applyAwarenessUpdate(this.awareness, update, peer)
    } catch (cause) {
      return new WeftError('BAD_MESSAGE', 'the awareness update cannot be decoded', { cause })
    }
    this.#broadcast(new Outgoing(this.name, { kind: 'awareness', update }), peer)
    return undefined
  }

  /** Resolves once everything applied so far is durable (or the room has failed). */
  async whenDurable(): Promise<void> {
    this.#flush()
    await this.#tail
  }

  /**
   * Unloads the room: waits for pending writes, compacts the log into the snapshot, and frees
   * the document. A compaction failure is logged; the log it would have replaced stays intact.
   */
  async close(): Promise<void> {
    await this.whenDurable()
    await this.#compaction
    if (this.#failure === null && this.#logEntries > 0) await this.#compact()
    this.#closed = true
    this.awareness.destroy()
    this.doc.destroy()
  }

  #hasPending(): boolean {
    return this.doc.store.pendingStructs !== null || this.doc.store.pendingDs !== null
  }

  #outgoingOf(updates: readonly Uint8Array[]): Outgoing {
    return updates.length === 1
      ? new Outgoing(this.name, { kind: 'update', update: updates[0] as Uint8Array })
      : new Outgoing(this.name, { kind: 'updates', updates })
  }

  #captureEmitted = (update: Uint8Array): void => {
    this.#emitted = update
  }

  #trackAwareness = (
    change: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    for (const owned of this.#awarenessOwners.values()) {
      for (const id of change.removed) owned.delete(id)
    }
    if (!this.#peers.has(origin as RoomPeer)) return
    const peer = origin as RoomPeer
    let owned = this.#awarenessOwners.get(peer)
    if (owned === undefined) this.#awarenessOwners.set(peer, (owned = new Set()))
    for (const id of change.added) owned.add(id)
    for (const id of change.updated) owned.add(id)
  }

  #broadcast(message: Outgoing, except: RoomPeer | null): void {
    for (const peer of this.#peers) {
      if (peer !== except) peer.deliver(message)
    }
  }

  #enqueue(write: PendingWrite): void {
    this.#queue.push(write)
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    setImmediate(() => this.#flush())
  }

  #flush(): void {
    this.#flushScheduled = false
    const batch = this.#queue
    if (batch.length === 0 || this.#failure !== null) return
    this.#queue = []
    // Everything applied so far is in this batch or an earlier one, so once this batch is
    // durable, so is everything this state vector covers.
    const stateVector = Y.encodeStateVector(this.doc)
    const entries: AppendEntry[] = []
    for (const write of batch) {
      const { author, correlationId } = write.peer
      for (const update of write.updates) {
        entries.push({ update, meta: { author, correlationId, receivedAtMs: write.receivedAtMs } })
      }
    }
    const written = entries.length > 0 ? this.#settings.store.append(this.name, entries) : null
    this.#tail = Promise.all([this.#tail, written]).then(
      ([, seq]) => this.#acknowledge(batch, entries, seq, stateVector),
      (cause: unknown) =>
        this.#fail(new WeftError('STORAGE_FAILED', `writing "${this.name}" failed`, { cause })),
    )
  }

  #acknowledge(
    batch: readonly PendingWrite[],
    entries: readonly AppendEntry[],
    seq: number | null,
    stateVector: Uint8Array,
  ): void {
    if (this.#failure !== null) return
    if (seq !== null) {
      this.#durableSeq = seq
      this.#logEntries += entries.length
      for (const entry of entries) this.#logBytes += entry.update.length
    }
    this.#durableStateVector = stateVector
    const refs = new Map<RoomPeer, number>()
    for (const write of batch) refs.set(write.peer, Math.max(refs.get(write.peer) ?? 0, write.ref))
    for (const [peer, ref] of refs) {
      if (this.#peers.has(peer)) peer.saved(ref, stateVector)
    }
    const { compactAfterUpdates, compactAfterBytes } = this.#settings
    if (
      this.#compaction === null &&
      (this.#logEntries >= compactAfterUpdates || this.#logBytes >= compactAfterBytes)
    ) {
      this.#compaction = this.#compact().finally(() => {
        this.#compaction = null
      })
    }
  }

  /** Folds the log into a snapshot of the in-memory document (a superset of the durable log). */
  async #compact(): Promise<void> {
    const throughSeq = this.#durableSeq
    const entries = this.#logEntries
    const bytes = this.#logBytes
    const started = performance.now()
    try {
      await this.#settings.store.compact(this.name, Y.encodeStateAsUpdate(this.doc), throughSeq)
      this.#logEntries -= entries
      this.#logBytes -= bytes
      this.#settings.logger.debug('compacted', {
        doc: this.name,
        entries,
        bytes,
        ms: Math.round(performance.now() - started),
      })
    } catch (cause) {
      // Nothing acknowledged depends on compaction: the log is intact and appends still report
      // their own failures. Surface it and try again at the next threshold.
      this.#settings.logger.error('compaction failed', { doc: this.name, error: String(cause) })
    }
  }

  #fail(error: WeftError): void {
    if (this.#failure !== null) return
    this.#failure = error
    this.#queue = []
    this.#settings.logger.error('room failed', {
      doc: this.name,
      code: error.code,
      error: String(error.cause ?? error),
    })
    const peers = [...this.#peers]
    this.#peers.clear()
    this.#awarenessOwners.clear()
    this.#settings.onFailed(this)
    for (const peer of peers) peer.roomFailed(error)
    this.#closed = true
    this.awareness.destroy()
    this.doc.destroy()
  }

  #assertUsable(): void {
    if (this.#failure !== null) throw this.#failure
    if (this.#closed) throw new WeftError('UNAVAILABLE', `document "${this.name}" is unloading`)
  }
}

/** Whether a transaction changed the document: Yjs's own test before it emits `update`. */
const transactionChanged = (transaction: Y.Transaction): boolean => {
  if (transaction.deleteSet.clients.size > 0) return true
  for (const [client, clock] of transaction.afterState) {
    if (transaction.beforeState.get(client) !== clock) return true
  }
  return false
}
