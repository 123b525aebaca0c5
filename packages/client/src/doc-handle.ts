/** DocHandle: one open document — its Y.Doc, awareness, local copy, outbox, status and promises. */
import {
  ERROR_CODES,
  isErrorCode,
  WeftError,
  type ErrorCode,
  type WeftMessage,
} from '@weft/protocol'
import { ObservableV2 } from 'lib0/observable'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { LocalPersistence } from './local-persistence.js'
import type { LocalDoc, OutboxRecord } from './local-store.js'
import { Outbox } from './outbox.js'
import { applyRemoteUpdates, rebuildDoc } from './remote-apply.js'
import type { SyncStatus } from './status.js'
import { DocPresence } from './doc-presence.js'
import { EditSender } from './edit-sender.js'
import { Waiters } from './waiters.js'
import { NamedTimers } from './named-timers.js'
import type {
  DocHandleEvents,
  HandleOwner,
  HandleSettings,
  OpenOptions,
  RefusedEdit,
} from './doc-handle-types.js'

export type { DocHandleEvents, HandleOwner, HandleSettings, OpenOptions, RefusedEdit }

type Messages = Extract<WeftMessage, { doc: string }>

/** Origin of the transaction that applies the local copy: not a new edit. */
const LOCAL_COPY = Symbol('weft-local-copy')

/**
 * A document opened through a client. Its locally stored state is applied at once, offline. A
 * local edit applies immediately, is written to the local store (state and outbox) and only then
 * sent. `pending` counts edits the relay has not reported durable, so "saved" is never claimed
 * for an edit that is not on the relay's disk; edits survive restarts in the local store.
 */
export class DocHandle extends ObservableV2<DocHandleEvents> {
  readonly name: string
  #doc: Y.Doc
  #awareness: awarenessProtocol.Awareness
  /** Edits the relay will never store, oldest first. */
  readonly refused: RefusedEdit[] = []
  readonly #owner: HandleOwner
  readonly #settings: HandleSettings
  readonly #persistence: LocalPersistence
  readonly #waiters = new Waiters()
  #presence: DocPresence
  readonly #ownsAwareness: boolean
  /** A refusal is being repaired: the relay's full state was asked for (see #reset). */
  #resetting = false
  /** `open`s sent on this connection whose sync step 2 has not arrived. */
  #syncsAwaited = 0
  /** Of those, how many were sent before the reset's own `open`. */
  #syncsBeforeReset = 0
  readonly #loaded: Promise<void>
  #outbox = new Outbox()
  /** Edits of the local write in progress, sent once it is written. */
  #unsent: OutboxRecord[] = []
  #unsentWrite: Promise<void> | null = null
  #pendingEmitScheduled = false
  readonly #sender: EditSender
  #early: Uint8Array[] | null = []
  #status: SyncStatus = { state: 'offline', reason: 'not connected yet' }
  #opened = false
  /**
   * This open's `sync-step-2` (which carries every edit the relay lacks, under the newest ref) has
   * gone out. Live edits wait until then: `saved` is cumulative, so an edit sent ahead of older
   * outbox entries would have its acknowledgement cover edits the relay never received.
   */
  #answered = false
  #synced = false
  #paused = false
  #closed = false
  #lastSavedAt: number | null = null
  /** When each outbox edit was first sent on this connection (for `saved`'s latency). */
  readonly #sentAt = new Map<number, number>()
  /** `reopen` after a retryable document error, `repair` of lost updates, `ack` overdue. */
  readonly #timers = new NamedTimers<'reopen' | 'repair' | 'ack'>()
  #reopenAttempt = 0
  /** Updates forwarded from another tab are being applied (recorded by #applyForwarded). */
  #forwarding = false

  /** @internal Created by `WeftClient.open`. */
  constructor(
    name: string,
    owner: HandleOwner,
    settings: HandleSettings,
    options: OpenOptions = {},
  ) {
    super()
    this.name = name
    this.#owner = owner
    this.#settings = settings
    this.#doc = options.doc ?? new Y.Doc({ guid: fastGuid() })
    this.#awareness = options.awareness ?? new awarenessProtocol.Awareness(this.#doc)
    this.#ownsAwareness = options.awareness === undefined
    this.#persistence = new LocalPersistence(
      settings.store,
      name,
      settings,
      () => Y.encodeStateAsUpdate(this.doc),
      (error) => this.#localStoreFailed(error),
    )
    this.#sender = new EditSender({
      name,
      send: (message) => owner.send(message),
      get maxMessageBytes() {
        return owner.maxMessageBytes
      },
      waiting: (ref) => this.#outbox.get(ref) !== undefined,
      tooBig: (ref, reason) => this.#refuseOne(ref, 'MESSAGE_TOO_BIG', reason),
    })
    this.#presence = this.#newPresence(this.#awareness, this.#ownsAwareness)
    this.doc.on('update', this.#onDocUpdate)
    this.#loaded = this.#load()
  }

  /**
   * The document. It is replaced (event `reset`) when the relay refuses an edit: a Yjs document
   * cannot take an edit back, so the handle rebuilds it from the relay's state plus the edits
   * still waiting, under a new Yjs client id. Bind editors to the document `reset` hands over.
   */
  get doc(): Y.Doc {
    return this.#doc
  }

  /** The document's awareness (presence); replaced together with the document on `reset`. */
  get awareness(): awarenessProtocol.Awareness {
    return this.#awareness
  }

  #newPresence(awareness: awarenessProtocol.Awareness, owned: boolean): DocPresence {
    return new DocPresence(
      awareness,
      owned,
      (update) => void this.#owner.send({ type: 'awareness', doc: this.name, update }),
      () => this.#opened,
    )
  }

  /** Where this document stands. */
  get status(): SyncStatus {
    return this.#status
  }

  /** True once the relay's state has arrived on the current connection. */
  get synced(): boolean {
    return this.#synced
  }

  /** True while syncing is paused (by `pause()`, or after an error that retrying cannot fix). */
  get paused(): boolean {
    return this.#paused
  }

  /** Local edits the relay has not yet reported durable. */
  get pending(): number {
    return this.#outbox.size + (this.#early?.length ?? 0)
  }

  /** Bytes of those edits. */
  get pendingBytes(): number {
    return this.#outbox.bytes + (this.#early ?? []).reduce((sum, update) => sum + update.length, 0)
  }

  /** When the relay last reported local edits durable (ms since the epoch), or `null`. */
  get lastSavedAt(): number | null {
    return this.#lastSavedAt
  }

  /** Resolves once the locally stored state is in `doc`. */
  whenLoaded(): Promise<void> {
    return this.#loaded
  }

  /** Resolves once every change so far is written to the local store (the device's copy). */
  async whenStored(): Promise<void> {
    await this.#loaded
    await this.#persistence.flush()
  }

  /** Resolves once the document is synced. Rejects with `CLOSED` if closed first. */
  whenSynced(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError(this.name))
    return this.#synced ? Promise.resolve() : this.#waiters.waitSynced()
  }

  /**
   * Resolves once every local edit made so far is durable on the relay. Rejects with `CLOSED` if
   * the handle closes first, or with the edit's code if one of them is refused. Called before the
   * local copy has loaded, it also waits for the edits made until then.
   */
  whenSaved(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError(this.name))
    if (this.#early !== null) return this.#loaded.then(() => this.whenSaved())
    if (this.#outbox.size === 0) return Promise.resolve()
    return this.#waiters.waitSaved(this.#outbox.lastRef)
  }

  /** Stops syncing this document (edits keep collecting locally) until {@link resume}. */
  pause(): void {
    if (this.#paused || this.#closed) return
    if (this.#opened) this.#owner.send({ type: 'close', doc: this.name })
    this.#paused = true
    this.#resetConnectionState()
    this.#setStatus({ state: 'offline', reason: 'paused' })
  }

  /** Resumes syncing after {@link pause}. */
  resume(): void {
    if (!this.#paused || this.#closed) return
    this.#paused = false
    if (this.#owner.ready) this.connectionReady()
  }

  /**
   * Stops syncing this document: withdraws presence, tells the relay, rejects waiters, and
   * resolves once local writes are finished (compacting the local copy if it grew).
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#presence.withdraw()
    if (this.#opened) this.#owner.send({ type: 'close', doc: this.name })
    this.#closed = true
    this.#resetConnectionState()
    this.doc.off('update', this.#onDocUpdate)
    this.#waiters.rejectAll(closedError(this.name))
    this.#owner.release(this)
    await this.#loaded
    await this.#persistence.flush()
    if (this.#persistence.wantsCompaction) await this.#persistence.compact().catch(() => {})
  }

  /** @internal The connection is ready: open the document on it (once the local copy is loaded). */
  connectionReady(): void {
    if (this.#closed || this.#paused || this.#early !== null) return
    this.#timers.clear('reopen')
    this.#answered = false
    // Reopening while a refusal is repaired asks for everything: the answer rebuilds the doc.
    this.#opened = this.#sendOpen(
      this.#resetting ? EMPTY_STATE_VECTOR : Y.encodeStateVector(this.doc),
    )
    if (this.#opened) this.#setStatus({ state: 'syncing' })
  }

  /** @internal The connection went down: forget per-connection state and remote presence. */
  connectionDown(): void {
    this.#resetConnectionState()
    this.#presence.forgetOthers(this)
  }

  /** @internal The connection's status, mirrored while the document is not open on it. */
  connectionStatus(status: SyncStatus): void {
    if (!this.#opened && !this.#paused && this.#status.state !== 'error') this.#setStatus(status)
  }

  /** @internal A message from the relay about this document. */
  receive(message: Messages): void {
    if (this.#closed || !this.#opened) return
    switch (message.type) {
      case 'sync-step-2':
        this.#syncsAwaited = Math.max(0, this.#syncsAwaited - 1)
        if (this.#resetting && this.#syncsBeforeReset === 0) this.#rebuild(message.update)
        else {
          if (this.#syncsBeforeReset > 0) this.#syncsBeforeReset -= 1
          this.#applyRemote([message.update])
        }
        return this.#markSynced()
      case 'sync-step-1':
        return this.#answerSyncStep1(message.stateVector)
      case 'update':
        return this.#applyRemote([message.update])
      case 'updates':
        return this.#applyRemote(message.updates)
      case 'awareness':
        return this.#presence.receive(message.update, this)
      case 'saved':
        return this.#saved(message.ref, message.stateVector)
      case 'rejected':
        return this.#refuse(message.ref, message.code, message.reason)
      case 'error':
        return this.#closedByRelay(message.code, message.reason)
      case 'close':
        return this.#closedByRelay('UNAVAILABLE', 'the relay closed the document')
      default:
        return
    }
  }

  async #load(): Promise<void> {
    let stored: LocalDoc = { snapshot: null, updates: [], outbox: [], lastRef: 0 }
    try {
      stored = await this.#persistence.load()
    } catch (error) {
      // Reported through #localStoreFailed. What is stored may hold unsent edits: do not write
      // over it (new refs could replace them) and do not sync a copy that lacks them.
      this.#persistence.disable()
      this.#early = null
      const code =
        error instanceof WeftError && error.code === 'DECRYPTION_FAILED'
          ? error.code
          : 'LOCAL_STORE_FAILED'
      this.#stop(code, `the local copy could not be read: ${String(error)}`)
      this.emit('loaded', [])
      return
    }
    Y.transact(
      this.doc,
      () => {
        if (stored.snapshot !== null) Y.applyUpdate(this.doc, stored.snapshot)
        for (const update of stored.updates) Y.applyUpdate(this.doc, update)
        for (const record of stored.outbox) Y.applyUpdate(this.doc, record.update)
      },
      LOCAL_COPY,
    )
    this.#outbox = new Outbox(stored.lastRef)
    for (const record of stored.outbox) this.#outbox.restore(record)
    const early = this.#early ?? []
    this.#early = null
    if (early.length > 0) this.#recordLocal(early)
    if (this.#persistence.wantsCompaction) this.#persistence.compact().catch(() => {})
    this.emit('loaded', [])
    if (this.#owner.ready) this.connectionReady()
  }

  /**
   * @internal Applies edits another tab made (relayed through this handle, which holds the
   * connection) with `origin`, and puts them in the outbox byte for byte, even where this
   * document already had their content: their acknowledgement must come from the relay, never
   * from a copy here. Returns the ref whose acknowledgement covers them. Only once loaded.
   */
  applyForwarded(updates: readonly Uint8Array[], origin: object): number {
    if (this.#closed) throw closedError(this.name)
    if (this.#early !== null) throw new WeftError('INTERNAL', `${this.name} is not loaded yet`)
    this.#forwarding = true
    try {
      Y.transact(
        this.doc,
        () => {
          for (const update of updates) Y.applyUpdate(this.doc, update, origin)
        },
        origin,
      )
    } finally {
      this.#forwarding = false
    }
    this.#recordLocal(updates)
    return this.#outbox.lastRef
  }

  /** @internal The oldest ref waiting for the relay, or `undefined` when none is. */
  get oldestPendingRef(): number | undefined {
    return this.#outbox.oldestRef
  }

  /** @internal Sends an awareness update of another tab's clients while the document is open. */
  sendAwareness(update: Uint8Array): void {
    if (this.#opened) this.#owner.send({ type: 'awareness', doc: this.name, update })
  }

  #onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === LOCAL_COPY || origin === this || this.#forwarding || this.#closed) return
    if (this.#early !== null) {
      this.#early.push(update)
      return
    }
    this.#recordLocal([update])
  }

  /**
   * Outbox, then local store, then the wire: an edit is sent only once it is stored. Edits of one
   * tick share one local write and then leave together, in as few frames as the relay's limit
   * allows.
   */
  #recordLocal(updates: readonly Uint8Array[]): void {
    const records = updates.map((update) => this.#outbox.push(update))
    this.#pendingChanged()
    const written = this.#persistence.recordLocal(records)
    if (written !== this.#unsentWrite) {
      const group: OutboxRecord[] = []
      this.#unsentWrite = written
      this.#unsent = group
      void written.then(() => this.#sendStored(group))
    }
    for (const record of records) this.#unsent.push(record)
  }

  #sendStored(records: readonly OutboxRecord[]): void {
    if (!this.#opened || !this.#answered || this.#closed) return
    const now = performance.now()
    for (const record of records)
      if (!this.#sentAt.has(record.ref)) this.#sentAt.set(record.ref, now)
    this.#sender.send(records)
    this.#armAckTimer()
  }

  /** Applies updates from the relay and, if they changed anything, stores them as received. */
  #applyRemote(updates: readonly Uint8Array[]): void {
    const changed = applyRemoteUpdates(this.doc, updates, this, this.#onDocUpdate)
    if (changed) for (const update of updates) this.#persistence.recordRemote(update)
    if (this.#waitsForDependencies() && !this.#timers.has('repair')) {
      // A lost or reordered update left structs waiting for their dependencies. Give a reordered
      // one time to arrive, then ask the relay for everything again.
      this.#timers.set('repair', this.#settings.repairAfterMs, () => {
        if (this.#opened && this.#waitsForDependencies()) this.#resync()
      })
    }
  }

  #waitsForDependencies(): boolean {
    return this.doc.store.pendingStructs !== null || this.doc.store.pendingDs !== null
  }

  #answerSyncStep1(stateVector: Uint8Array): void {
    const update = Y.encodeStateAsUpdate(this.doc, stateVector)
    if (!this.#sender.fits(update.length)) {
      this.#stop(
        'MESSAGE_TOO_BIG',
        `what the relay lacks (${update.length} bytes) is over its frame limit`,
      )
      return
    }
    this.#owner.send({ type: 'sync-step-2', doc: this.name, ref: this.#outbox.lastRef, update })
    this.#answered = true
    const now = performance.now()
    for (const ref of this.#outbox.refs()) if (!this.#sentAt.has(ref)) this.#sentAt.set(ref, now)
    if (this.#outbox.size > 0) this.#armAckTimer()
  }

  /** Asks the relay for a fresh sync (open again): repairs lost updates and lost acks. */
  #resync(): void {
    this.#sendOpen(Y.encodeStateVector(this.doc))
  }

  /** Sends `open`; the relay answers each with one sync step 2. */
  #sendOpen(stateVector: Uint8Array): boolean {
    const sent = this.#owner.send({ type: 'open', doc: this.name, stateVector })
    if (sent) this.#syncsAwaited += 1
    return sent
  }

  #markSynced(): void {
    if (this.#synced) return
    this.#synced = true
    this.#reopenAttempt = 0
    this.#presence.announce()
    this.#setStatus({ state: 'synced' })
    this.#waiters.synced()
    this.emit('synced', [])
  }

  #saved(ref: number, stateVectorBytes: Uint8Array): void {
    const settled = this.#outbox.acknowledge(ref)
    this.#sender.acknowledged(ref)
    // The relay's first `saved` after an open (ref 0) tells what is on disk from earlier
    // connections, whose acknowledgements may have been lost with them; later ones come in order
    // and settle by ref alone, so the outbox is not rescanned on every acknowledgement.
    if (ref === 0 && this.#outbox.size > 0) {
      try {
        for (const covered of this.#outbox.settleCovered(Y.decodeStateVector(stateVectorBytes)))
          settled.push(covered)
      } catch {
        // A malformed state vector settles nothing more.
      }
    }
    if (settled.length === 0) return
    let sentAt = Number.POSITIVE_INFINITY
    for (const settledRef of settled) {
      sentAt = Math.min(sentAt, this.#sentAt.get(settledRef) ?? Number.POSITIVE_INFINITY)
      this.#sentAt.delete(settledRef)
    }
    const latencyMs = Number.isFinite(sentAt) ? performance.now() - sentAt : null
    this.#persistence.acknowledge(settled)
    this.#lastSavedAt = Date.now()
    this.#waiters.saved(this.#outbox.oldestRef)
    this.#timers.clear('ack')
    if (this.#outbox.size > 0) this.#armAckTimer()
    this.emit('saved', [{ ref, pending: this.pending, latencyMs }])
    this.#pendingChanged()
  }

  /** The relay refused `ref`: every edit it stood for (a whole batch) will never be stored. */
  #refuse(ref: number, rawCode: string, reason: string): void {
    for (const each of this.#sender.refsOf(ref)) this.#refuseOne(each, rawCode, reason)
  }

  #refuseOne(ref: number, rawCode: string, reason: string): void {
    const code = isErrorCode(rawCode) ? rawCode : 'INTERNAL'
    const update = this.#outbox.get(ref)
    if (update === undefined) {
      // Not a waiting edit (for example a whole resync): report it as it is.
      this.emit('error', [new WeftError(code, `${this.name}: update ${ref} refused: ${reason}`)])
      return
    }
    this.#setAside(ref, update, code, reason)
    // Later edits build on the refused one (its clocks, often its content): the relay could
    // never apply them either. They are set aside with it.
    for (const later of this.#outbox.refs()) {
      if (later < ref) continue
      const laterUpdate = this.#outbox.get(later) as Uint8Array
      this.#setAside(later, laterUpdate, code, `it follows edit ${ref}, which was refused`)
    }
    this.#waiters.saved(this.#outbox.oldestRef)
    this.emit('pending', [this.pending])
    this.#reset()
  }

  #setAside(ref: number, update: Uint8Array, code: ErrorCode, reason: string): void {
    this.#outbox.remove(ref)
    this.#persistence.acknowledge([ref])
    const edit: RefusedEdit = { ref, update, code, reason }
    this.refused.push(edit)
    this.#waiters.refused(ref, new WeftError(code, `${this.name}: edit ${ref} refused: ${reason}`))
    this.emit('rejected', [edit])
  }

  /**
   * Asks the relay for its whole state (an `open` with an empty state vector); the answer
   * replaces the document (#rebuild). Until then the old document stays in place.
   */
  #reset(): void {
    if (this.#resetting || this.#closed) return
    this.#resetting = true
    if (this.#opened) {
      // Answers to opens sent before this one are partial: they are applied as usual.
      this.#syncsBeforeReset = this.#syncsAwaited
      this.#sendOpen(EMPTY_STATE_VECTOR)
    }
  }

  /** Builds the document anew from the relay's state and the edits still waiting. */
  #rebuild(relayState: Uint8Array): void {
    this.#resetting = false
    const previous = this.#doc
    const waiting = this.#outbox.refs().map((ref) => this.#outbox.get(ref) as Uint8Array)
    const doc = rebuildDoc(relayState, waiting, LOCAL_COPY, fastGuid())
    previous.off('update', this.#onDocUpdate)
    const localState = this.#awareness.getLocalState()
    this.#presence.withdraw()
    this.#doc = doc
    this.#awareness = new awarenessProtocol.Awareness(doc)
    this.#awareness.setLocalState(localState)
    this.#presence = this.#newPresence(this.#awareness, true)
    doc.on('update', this.#onDocUpdate)
    // The stored copy holds the refused edits: replace it with the rebuilt document.
    this.#persistence.compact().catch(() => {})
    this.#presence.announce()
    this.emit('reset', [{ doc, awareness: this.#awareness, previous }])
  }

  #closedByRelay(rawCode: string, reason: string): void {
    const code = isErrorCode(rawCode) ? rawCode : 'INTERNAL'
    // An answer to a frame sent before the relay closed the document, arriving after this
    // handle already sent its `open` again: that reopen is under way.
    if (code === 'DOC_NOT_OPEN' && this.#syncsAwaited > 0) return
    this.#resetConnectionState()
    this.emit('error', [new WeftError(code, `${this.name}: ${reason}`)])
    if (ERROR_CODES[code].retry === 'stop') return this.#stop(code, reason)
    this.#setStatus({ state: 'connecting', attempt: this.#reopenAttempt, reason })
    this.#timers.set('reopen', this.#owner.retryDelayMs(this.#reopenAttempt++), () => {
      if (this.#owner.ready) this.connectionReady()
    })
  }

  /** This document stops syncing for a reason retrying cannot fix; the others keep working. */
  #stop(code: ErrorCode, reason: string): void {
    if (this.#opened) this.#owner.send({ type: 'close', doc: this.name })
    this.#resetConnectionState()
    this.#paused = true
    this.#setStatus({ state: 'error', code, reason })
  }

  #localStoreFailed(error: unknown): void {
    const coded =
      error instanceof WeftError && error.code === 'DECRYPTION_FAILED'
        ? error
        : new WeftError('LOCAL_STORE_FAILED', `${this.name}: ${String(error)}`, { cause: error })
    this.emit('error', [coded])
  }

  #armAckTimer(): void {
    if (this.#timers.has('ack') || this.#outbox.size === 0) return
    this.#timers.set('ack', this.#settings.ackTimeoutMs, () => {
      if (!this.#opened || this.#outbox.size === 0) return
      this.#resync()
      this.#armAckTimer()
    })
  }

  #resetConnectionState(): void {
    this.#sender.reset()
    this.#syncsAwaited = 0
    this.#syncsBeforeReset = 0
    this.#opened = false
    this.#answered = false
    this.#sentAt.clear()
    this.#synced = false
    this.#timers.clearAll()
  }

  /** Emits `pending` once per tick however many edits were made in it. */
  #pendingChanged(): void {
    if (this.#pendingEmitScheduled) return
    this.#pendingEmitScheduled = true
    queueMicrotask(() => {
      this.#pendingEmitScheduled = false
      this.emit('pending', [this.pending])
    })
  }

  #setStatus(status: SyncStatus): void {
    this.#status = status
    this.emit('status', [status])
    this.#owner.handleStatusChanged()
  }
}

const closedError = (name: string): WeftError =>
  new WeftError('CLOSED', `document "${name}" was closed`)

/**
 * A document guid from the platform's UUID generator where there is one (Yjs's own default draws
 * 31 random numbers one by one, which dominates opening many documents); `undefined` lets Yjs
 * choose (`crypto.randomUUID` is missing outside secure browser contexts).
 */
const fastGuid = (): string | undefined =>
  (globalThis.crypto as { randomUUID?: () => string } | undefined)?.randomUUID?.()

/** An encoded state vector that names no client: "send me everything". */
const EMPTY_STATE_VECTOR = new Uint8Array([0])
