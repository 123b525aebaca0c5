/** Room: one loaded document, its peers, and the path receive → apply → fan out → persist → ack. */
import { randomUUID } from 'node:crypto'
import { decodeStateVector, QueuedItems, summarizeUpdate, type AnySchema } from '@weft/doc'
import { ROOT_CONTEXT, type Context } from '@opentelemetry/api'
import { WeftError, type TraceContext } from '@weft/protocol'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { applyTransaction, type AppliedTransaction } from './apply-transaction.js'
import type { DocStore, StoredDoc } from './doc-store.js'
import { withClaimedPresence, type PresenceClaims } from './presence-claims.js'
import type { Logger } from './logger.js'
import { endFailed, inChildSpan, startUpdateSpan } from './tracing.js'
import type { RelayMetrics } from './metrics.js'
import {
  awarenessEntries,
  awarenessSubset,
  awarenessEntryChanges,
  ClientIdOwners,
  readClientIdBindings,
  writeClientIdBindings,
  type ClientIdBinding,
  type AwarenessEntry,
} from './client-id-owners.js'
import { Outgoing, type Dialect } from './outgoing.js'
import type { BusRoom, RoomBusLink } from './bus-router.js'
import { RoomAwareness } from './room-awareness.js'
import type { CatchUpReason } from './room-sequence.js'
import { RoomSharedLog } from './room-shared-log.js'
import { RoomWriter, type WriterDrift } from './room-writer.js'
import type { RecordRules } from './record-rules.js'
import type { QueuedContent, WritePolicy } from './write-rules.js'
import { JoinFrames } from './join-frames.js'
import { TurnBatch } from './turn-batch.js'
import type { SyncTransfer } from './relay-transfers.js'

/** Largest log record whose bytes go on the bus; other relays read bigger ones from the store. */

/** A connection's view of one room: how the room reaches it. */
export interface RoomPeer {
  readonly dialect: Dialect
  /** Identity written beside this peer's updates in the log. */
  readonly author: string
  readonly correlationId: string
  /**
   * Who owns the Yjs client ids this peer writes under (its token subject, so the same across
   * reconnects); `null` without authentication (open mode), where ids are not checked.
   */
  readonly owner: string | null
  /** A message from another peer of the room. */
  deliver(message: Outgoing): void
  /**
   * Everything this peer sent with a ref up to `ref`, and everything `stateVector` covers, is
   * durable.
   */
  saved(ref: number, stateVector: Uint8Array): void
  /** The room failed and is gone; the peer has been removed from it. */
  roomFailed(error: WeftError): void
  /** The trace context its client sent, parent of the spans of its updates. */
  readonly traceContext?: Context
  /** Its verified token's claims (see `RoomSettings.presenceClaims`); none for services. */
  readonly claims?: Readonly<Record<string, unknown>> | null
}

/** Settings of a room, resolved by the relay. */
export interface RoomSettings {
  readonly store: DocStore
  /** Presence fields set from each peer's token claims. Default none. */
  readonly presenceClaims?: PresenceClaims | null
  readonly logger: Logger
  readonly metrics: RelayMetrics
  /** Compact the log into the snapshot once it holds this many entries. */
  readonly compactAfterUpdates: number
  /** …or this many bytes. */
  readonly compactAfterBytes: number
  /** Called once when the room fails, so its owner can forget it. */
  readonly onFailed: (room: Room) => void
  /**
   * The document's schema: its changes are described as domain events, and writes must fit it
   * (see `writePolicy`). Default none.
   */
  readonly schema?: AnySchema | null
  /** Who may write which records of the schema's collections. Default none. */
  readonly rules?: RecordRules | null
  /** Called after changes became durable (and entered the store's change feed, if it keeps one). */
  readonly onChanges?: () => void
  /**
   * The bus to the other relays sharing the store: durable records and presence are published,
   * theirs are received, and gaps are read from the store. Default none (a single relay).
   */
  readonly busLink?: RoomBusLink | null
}

/** Updates received from one peer message, validated, waiting for this tick's transaction. */
interface Incoming {
  readonly peer: RoomPeer
  readonly updates: readonly Uint8Array[]
  readonly ref: number
  readonly receivedAtMs: number
  /** The trace contexts the client sent with these updates (`traced`), in order. */
  readonly traces: readonly TraceContext[]
}

/**
 * One document in memory. Updates are validated on arrival (a malformed one is refused before it
 * touches anything); those of one tick are applied together in one Yjs transaction, fanned out
 * to the other peers, and handed to the writer, which appends them and acknowledges them once
 * durable. A storage failure fails the room: no further acks, every peer is told, and the owner
 * drops it so the next load comes from disk.
 */
export class Room implements BusRoom {
  readonly name: string
  readonly #doc: Y.Doc
  readonly #joinFrames: JoinFrames
  readonly #settings: RoomSettings
  /** What the store held, until it is applied to the document. */
  #stored: StoredDoc | null = null
  readonly #peers = new Set<RoomPeer>()
  readonly #clientIds = new ClientIdOwners((bindings) => this.#storeBindings(bindings))
  /** Bindings of client ids being stored (awaited before the room closes). */
  readonly #bindingWrites = new Set<Promise<void>>()
  readonly #presence: RoomAwareness<RoomPeer>
  readonly #writer: RoomWriter<RoomPeer>
  /** Its end of the log shared with other relays (with a bus only). */
  readonly #shared: RoomSharedLog | null
  #incoming: Incoming[] = []
  /** The items of the queued writes, while all of them write only text or list content. */
  readonly #queuedItems = new QueuedItems()
  #writePolicy: WritePolicy | null | undefined
  #queueContentOnly = true
  #integrateScheduled = false
  /** Updates from elsewhere taken this turn, applied together (see {@link TurnBatch}). */
  readonly #remote = new TurnBatch((update) => this.#applyRemoteNow(update))
  #failure: WeftError | null = null
  #closed = false

  /**
   * Loads `name` from the store; throws `UNAVAILABLE` when the store fails. The stored updates
   * are read now and applied to the document at the end of the tick (or at first use), so that
   * the first clients with nothing can be answered with the stored bytes as they are.
   */
  static async load(name: string, settings: RoomSettings): Promise<Room> {
    let stored: StoredDoc
    let bindings: ClientIdBinding[]
    try {
      ;[stored, bindings] = await Promise.all([
        settings.store.load(name),
        readClientIdBindings(settings.store, name),
      ])
    } catch (cause) {
      throw new WeftError('UNAVAILABLE', `document "${name}" could not be loaded`, { cause })
    }
    const log = {
      headSeq: stored.headSeq,
      logEntries: stored.updates.length,
      logBytes: stored.logBytes,
      incarnation: stored.incarnation,
    }
    // A guid of our own: Yjs's default draws 31 random numbers, a cost paid per document load.
    const room = new Room(name, new Y.Doc({ guid: randomUUID() }), log, settings)
    room.#stored = stored
    room.#clientIds.restore(bindings)
    setImmediate(() => room.#loadStored())
    return room
  }

  private constructor(
    name: string,
    doc: Y.Doc,
    log: { headSeq: number; logEntries: number; logBytes: number; incarnation: string | undefined },
    settings: RoomSettings,
  ) {
    this.name = name
    this.#doc = doc
    this.#joinFrames = new JoinFrames(doc, name)
    this.#settings = settings
    const bus = settings.busLink ?? null
    const { incarnation, ...writerLog } = log
    this.#shared =
      bus === null
        ? null
        : new RoomSharedLog(
            {
              name,
              closed: () => this.#closed,
              applyRemote: (updates) => this.#applyRemote(updates),
              deleted: (error) => this.#fail(error, false),
            },
            { ...settings, bus, headSeq: log.headSeq, incarnation },
          )
    this.#writer = new RoomWriter<RoomPeer>({
      ...settings,
      ...writerLog,
      name,
      doc,
      ...(this.#shared?.writerOptions() ?? {}),
      author: (peer) => ({ author: peer.author, correlationId: peer.correlationId }),
      acknowledge: (peer, ref, stateVector) => {
        if (this.#peers.has(peer)) peer.saved(ref, stateVector)
      },
      failed: (error) => this.#fail(error),
    })
    this.#presence = new RoomAwareness<RoomPeer>(name, doc, {
      peers: () => this.#peers,
      peerCount: () => this.#peers.size,
      deliver: (peer, message) => peer.deliver(message),
      ...(bus === null
        ? {}
        : {
            publish: (update: Uint8Array) =>
              bus.publish({ kind: 'awareness', doc: name, origin: bus.id, update }),
          }),
    })
  }

  /** An update of another relay (see `RoomSharedLog.receive`). */
  receiveUpdate(seq: number, updates: readonly Uint8Array[], incarnation?: string): void {
    this.#shared?.receive(seq, updates, incarnation)
  }

  /** Presence changes of another relay's sessions, for this room's peers. */
  receiveAwareness(origin: string, update: Uint8Array): void {
    if (!this.#closed) this.#presence.applyRemote(origin, update)
  }

  /** Another relay asks for presence: publishes what this room's own peers announced. */
  answerAwarenessQuery(): void {
    const bus = this.#settings.busLink
    if (this.#closed || bus == null) return
    const update = this.#presence.localStates()
    if (update !== null) bus.publish({ kind: 'awareness', doc: this.name, origin: bus.id, update })
  }

  /** Reads the store and applies what the document lacks (lost bus messages), for `reason`. */
  catchUp(reason: CatchUpReason): Promise<void> {
    return this.#shared?.catchUp(reason) ?? Promise.resolve()
  }

  /**
   * Takes updates from elsewhere (other relays, the store's log): they are applied together with
   * the others of this turn, before anything reads the document. False if the room failed.
   */
  #applyRemote(updates: readonly Uint8Array[]): boolean {
    this.#loadStored()
    if (this.#failure !== null) return false
    this.#remote.add(updates)
    return true
  }

  /** Applies `update` from elsewhere and forwards what it changed. */
  #applyRemoteNow(update: Uint8Array): void {
    if (this.#failure !== null || this.#closed) return
    let emitted: Uint8Array | null
    // What the write check learned of the document this tick (owners among it) may change.
    this.#queuedItems.learned.clear()
    try {
      emitted = applyTransaction(this.#doc, [update], null).emitted
    } catch (cause) {
      this.#fail(new WeftError('INTERNAL', `applying updates to "${this.name}" failed`, { cause }))
      return
    }
    if (emitted !== null)
      this.#broadcast(new Outgoing(this.name, { kind: 'update', update: emitted }), null)
  }

  /** What writes must obey besides scopes (schema, record rules), or `null` without a schema. */
  get writePolicy(): WritePolicy | null {
    if (this.#writePolicy === undefined) {
      const schema = this.#settings.schema ?? null
      this.#writePolicy = schema === null ? null : { schema, rules: this.#settings.rules ?? null }
    }
    return this.#writePolicy
  }

  /**
   * The document as applied so far and the items of what is queued, while everything queued
   * writes only text or list content (see `WriteTarget.queuedContent`); else `null`.
   */
  queuedContent(): QueuedContent | null {
    if (this.#stored !== null || !this.#queueContentOnly || this.#failure !== null) return null
    return { doc: this.#doc, items: this.#queuedItems }
  }

  /** A write judged with the queue applied is to be queued: see `WriteTarget.queuedOther`. */
  queuedOther(): void {
    this.#queueContentOnly = false
  }

  /** A write to this room was judged in `seconds`: see `WriteTarget.checked`. */
  checked(seconds: number): void {
    this.#settings.metrics.writeChecked(seconds)
  }

  /** The document, with everything stored and received so far applied. */
  get doc(): Y.Doc {
    this.#loadStored()
    this.#integrate()
    return this.#doc
  }

  /**
   * The stored bytes as they are, for a peer whose `stateVector` is empty, while they have not
   * been applied to the document yet and are a single update; otherwise `null` (use `diff`).
   * Sending them spares the relay applying and re-encoding the document before a fresh client
   * has it.
   */
  storedContent(stateVector: Uint8Array): Uint8Array | null {
    const stored = this.#stored
    if (stored === null || this.#incoming.length > 0 || !isEmptyStateVector(stateVector))
      return null
    const { snapshot, updates } = stored
    if (snapshot !== null && updates.length === 0) return snapshot
    if (snapshot === null && updates.length === 1) return updates[0] as Uint8Array
    return null
  }

  /** The room's awareness (presence of its peers). */
  get awareness(): awarenessProtocol.Awareness {
    return this.#presence.awareness
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
    this.#loadStored()
    return this.#writer.durableStateVector
  }

  /** How far the document runs ahead of the store (see `WriterDrift`); reads no store. */
  get drift(): WriterDrift {
    return this.#writer.drift
  }

  /** Adds a peer; it receives every later update and awareness change of the other peers. */
  join(peer: RoomPeer): void {
    if (this.#failure !== null) throw this.#failure
    if (this.#closed) throw new WeftError('UNAVAILABLE', `document "${this.name}" is unloading`)
    this.#peers.add(peer)
  }

  /** Removes a peer and withdraws the awareness states it announced. */
  leave(peer: RoomPeer): void {
    if (!this.#peers.delete(peer)) return
    if (!this.#closed) this.#presence.leave(peer)
  }

  /** The room's state vector, including every update received so far. */
  stateVector(): Uint8Array {
    return Y.encodeStateVector(this.doc)
  }

  /** What a peer with `stateVector` lacks, or `BAD_MESSAGE` when the state vector is malformed. */
  /**
   * The frame a Weft client with none of the document gets: its whole state, compressed from
   * `compressFromBytes` (`null`: not), built once per change for every such joiner.
   */
  joinFrame(compressFromBytes: number | null): Uint8Array {
    // Applies what is queued first, which may change the document (and drop a stale frame).
    void this.doc
    return this.#joinFrames.frame(compressFromBytes)
  }

  /** The same frame as a chunked transfer, cut once per change for every such joiner. */
  joinTransfer(compressFromBytes: number | null): SyncTransfer {
    void this.doc
    return this.#joinFrames.transfer(compressFromBytes)
  }

  diff(stateVector: Uint8Array): Uint8Array | WeftError {
    const decoded = decodeStateVector(stateVector)
    if (!decoded.ok) return decoded.error
    return Y.encodeStateAsUpdate(this.doc, stateVector)
  }

  /** An awareness update with every known state, or `null` when nobody is present. */
  awarenessStates(): Uint8Array | null {
    return this.#presence.states()
  }

  /** Applies one update from `peer`; see {@link applyUpdates}. */
  applyUpdate(peer: RoomPeer, update: Uint8Array, ref: number): WeftError | undefined {
    return this.applyUpdates(peer, [update], ref)
  }

  /**
   * Takes updates from `peer`: all of them, or, if any is malformed, none (`BAD_UPDATE`, decided
   * here, before anything touches the document). They are applied at the end of the tick, in
   * one Yjs transaction with the sender's other updates of the tick, then fanned out and
   * written; `peer.saved(ref, …)` follows once they are durable.
   */
  applyUpdates(
    peer: RoomPeer,
    updates: readonly Uint8Array[],
    ref: number,
    traces: ReadonlyArray<TraceContext | null> = [],
  ): WeftError | undefined {
    if (this.#failure !== null) return this.#failure
    const nonEmpty: Uint8Array[] = []
    const writes = new Set<number>()
    this.#loadStored()
    for (const update of updates) {
      const summary = summarizeUpdate(update)
      if (!summary.ok) return summary.error
      if (summary.summary.isEmpty) continue
      nonEmpty.push(update)
      for (const [client, end] of summary.summary.endClocks) {
        if (end > Y.getState(this.#doc.store, client)) writes.add(client)
      }
    }
    const taken = peer.owner === null ? undefined : this.#clientIds.claim(peer.owner, writes)
    if (taken !== undefined) {
      return new WeftError('FORBIDDEN', `Yjs client id ${taken} belongs to another session`)
    }
    const traced = traces.filter((context) => context !== null)
    this.#incoming.push({ peer, updates: nonEmpty, ref, receivedAtMs: Date.now(), traces: traced })
    if (!this.#integrateScheduled) {
      this.#integrateScheduled = true
      setImmediate(() => this.#integrate())
    }
    return undefined
  }

  /** Applies an awareness update from `peer`; what it changes reaches the other peers within a presence tick. */
  applyAwareness(peer: RoomPeer, update: Uint8Array): WeftError | undefined {
    if (this.#failure !== null) return this.#failure
    let entries: AwarenessEntry[]
    try {
      entries = awarenessEntries(update)
    } catch (cause) {
      return new WeftError('BAD_MESSAGE', 'the awareness update cannot be decoded', { cause })
    }
    // Entries that change nothing are dropped before their states are parsed: stock y-websocket
    // clients send back every state they receive. Entries under another owner's client id are
    // refused unless they change nothing. Presence alone binds no id.
    const { awareness } = this.#presence
    const changing: AwarenessEntry[] = []
    for (const entry of entries) {
      const known = awareness.meta.get(entry.id)
      if (!awarenessEntryChanges(entry, known, awareness.states.has(entry.id))) continue
      const owner = this.#clientIds.ownerOf(entry.id)
      if (owner !== undefined && owner !== peer.owner && peer.owner !== null) {
        return new WeftError(
          'FORBIDDEN',
          `awareness for Yjs client id ${entry.id} belongs to another session`,
        )
      }
      changing.push(entry)
    }
    if (changing.length === 0) return undefined
    const mapping = this.#settings.presenceClaims ?? null
    const claims = peer.claims ?? null
    const applied =
      mapping !== null && claims !== null
        ? withClaimedPresence(update, changing, mapping, claims)
        : changing.length === entries.length
          ? update
          : awarenessSubset(update, changing)
    return this.#presence.apply(peer, applied, this.#peers.has(peer))
  }

  /** Resolves once everything received so far is durable (or the room has failed). */
  async whenDurable(): Promise<void> {
    this.#loadStored()
    this.#integrate()
    await this.#writer.whenDurable()
  }

  /**
   * Unloads the room: waits for pending writes, compacts the log into the snapshot, and frees
   * the document. A compaction failure is logged; the log it would have replaced stays intact.
   */
  async close(): Promise<void> {
    this.#loadStored()
    this.#integrate()
    await this.#writer.finish()
    await Promise.all(this.#bindingWrites)
    this.#closed = true
    this.#shared?.stop()
    this.#presence.destroy()
    this.#doc.destroy()
  }

  /** Applies what the store held, once. Data that Yjs cannot apply fails the room. */
  #loadStored(): void {
    const stored = this.#stored
    if (stored === null || this.#failure !== null) return
    this.#stored = null
    try {
      Y.transact(this.#doc, () => {
        if (stored.snapshot !== null) Y.applyUpdate(this.#doc, stored.snapshot)
        for (const update of stored.updates) Y.applyUpdate(this.#doc, update)
      })
    } catch (cause) {
      this.#fail(
        new WeftError('UNAVAILABLE', `document "${this.name}" could not be loaded`, { cause }),
      )
    }
  }

  /**
   * Applies what arrived this tick: each sender's consecutive messages in one Yjs transaction.
   * What the transaction changed, as Yjs encodes it, is what the other peers receive and what is
   * stored: usually far smaller than the updates that produced it (a run of single-character
   * edits becomes one update), and never what the room already had. Structs that wait for
   * missing dependencies are only in the raw updates: while any wait, those are stored whole.
   */
  #integrate(): void {
    this.#integrateScheduled = false
    this.#loadStored()
    this.#remote.flush()
    const queue = this.#incoming
    this.#incoming = []
    this.#queuedItems.clear()
    this.#queueContentOnly = true
    let start = 0
    while (start < queue.length && this.#failure === null) {
      const sender = (queue[start] as Incoming).peer
      let end = start + 1
      while (end < queue.length && (queue[end] as Incoming).peer === sender) end += 1
      this.#apply(sender, queue.slice(start, end))
      start = end
    }
  }

  #apply(sender: RoomPeer, run: readonly Incoming[]): void {
    const updates = run.flatMap((incoming) => incoming.updates)
    let ref = 0
    for (const incoming of run) ref = Math.max(ref, incoming.ref)
    const bytes = updates.reduce((total, update) => total + update.length, 0)
    const receivedAtMs = (run[0] as Incoming).receivedAtMs
    const traces = run.flatMap((incoming) => incoming.traces)
    const traced = startUpdateSpan(sender.traceContext ?? ROOT_CONTEXT, traces, receivedAtMs, {
      'weft.doc': this.name,
      'weft.dialect': sender.dialect,
      'weft.updates': updates.length,
      'weft.bytes': bytes,
      'weft.ref': ref,
      'enduser.id': sender.author,
    })
    let applied: AppliedTransaction = { emitted: null, events: [] }
    if (updates.length > 0) {
      try {
        const schema = this.#settings.schema ?? null
        applied = inChildSpan(traced, 'weft.apply', {}, () =>
          applyTransaction(this.#doc, updates, schema),
        )
      } catch (cause) {
        // Yjs may have integrated part of it: memory no longer matches the store.
        const error = new WeftError('INTERNAL', `applying updates to "${this.name}" failed`, {
          cause,
        })
        if (traced !== null) endFailed(traced.span, error)
        this.#fail(error)
        return
      }
    }
    const { emitted, events } = applied
    const { metrics } = this.#settings
    metrics.updatesApplied(updates.length, bytes)
    for (const event of events) {
      if (event.type === 'conflict.opened') metrics.conflict('opened', event.collection)
      else if (event.type === 'conflict.resolved') metrics.conflict('resolved', event.collection)
    }
    if (emitted !== null) {
      const peers = this.#peers.size - 1
      inChildSpan(traced, 'weft.fanout', { 'weft.peers': peers }, () =>
        this.#broadcast(new Outgoing(this.name, { kind: 'update', update: emitted }), sender),
      )
      this.#shared?.publishAhead(emitted)
      metrics.fannedOut((Date.now() - receivedAtMs) / 1000, peers)
    }
    const stored = this.#hasPending() ? updates : emitted === null ? [] : [emitted]
    this.#writer.enqueue({
      peer: sender,
      updates: stored,
      ref,
      receivedAtMs,
      events,
      ...(traced === null ? {} : { traced }),
    })
  }

  #hasPending(): boolean {
    return this.#doc.store.pendingStructs !== null || this.#doc.store.pendingDs !== null
  }

  #broadcast(message: Outgoing, except: RoomPeer | null): void {
    for (const peer of this.#peers) {
      if (peer !== except) peer.deliver(message)
    }
  }

  /**
   * Ends the room without writing anything more (for a deletion): peers get `error`, writes not
   * yet started are dropped, and this resolves once the write in progress has finished.
   */
  async discard(error: WeftError): Promise<void> {
    this.#fail(error, false)
    await this.#writer.settled()
  }

  /**
   * Stores client ids bound just now. Issued before the update that bound them is applied and
   * appended, so the store writes the binding first; a failure is logged (the binding still
   * holds while the room is loaded).
   */
  #storeBindings(bindings: readonly ClientIdBinding[]): void {
    const { store, logger } = this.#settings
    const write = writeClientIdBindings(store, this.name, bindings).catch((error: unknown) =>
      logger.warn('storing client id owners failed', { doc: this.name, error: String(error) }),
    )
    this.#bindingWrites.add(write)
    void write.finally(() => this.#bindingWrites.delete(write))
  }

  /** Writes what is pending, then folds the log into the snapshot; resolves with entries folded. */
  async compactNow(): Promise<number> {
    this.#loadStored()
    this.#integrate()
    return this.#writer.compactNow()
  }

  #fail(error: WeftError, unexpected = true): void {
    if (this.#failure !== null) return
    this.#failure = error
    this.#incoming = []
    this.#queuedItems.clear()
    this.#writer.stop()
    if (unexpected) {
      this.#settings.logger.error('room failed', {
        doc: this.name,
        code: error.code,
        error: String(error.cause ?? error),
      })
    }
    const peers = [...this.#peers]
    this.#peers.clear()
    this.#settings.onFailed(this)
    for (const peer of peers) peer.roomFailed(error)
    this.#closed = true
    this.#shared?.stop()
    this.#presence.destroy()
    this.#doc.destroy()
  }
}

/** True when an encoded state vector names no client (a peer that has nothing). */
export const isEmptyStateVector = (stateVector: Uint8Array): boolean =>
  stateVector.length === 1 && stateVector[0] === 0
