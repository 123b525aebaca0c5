/** DocHandle: one open document — its Y.Doc, awareness, local copy, outbox, status and promises. */
import {
  ERROR_CODES,
  isErrorCode,
  WeftError,
  type ErrorCode,
  type WeftMessage,
  type TraceContext,
} from '@weft/protocol'
import { ObservableV2 } from 'lib0/observable'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { LocalPersistence } from './local-persistence.js'
import type { LocalDoc } from './local-store.js'
import { applyRemoteUpdates } from './remote-apply.js'
import type { SyncStatus } from './status.js'
import { DocPresence } from './doc-presence.js'
import { DocSession, EMPTY_STATE_VECTOR, type SessionHost } from './doc-session.js'
import { OutboxWatch, type OutboxState } from './outbox-watch.js'
import { LOCAL_COPY, LocalEdits } from './local-edits.js'
import { RefusalRepair, type RepairHost } from './refusal-repair.js'
import { newDocGuid } from './doc-guid.js'
import { Waiters } from './waiters.js'
import { EditTraces } from './client-tracing.js'
import type {
  DocHandleEvents,
  HandleOwner,
  HandleSettings,
  OpenOptions,
  RejectedEdit,
} from './doc-handle-types.js'

export type { DocHandleEvents, HandleOwner, HandleSettings, OpenOptions, RejectedEdit }

type Messages = Extract<WeftMessage, { doc: string }>

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
  readonly rejected: RejectedEdit[] = []
  readonly #owner: HandleOwner
  readonly #settings: HandleSettings
  readonly #persistence: LocalPersistence
  readonly #waiters = new Waiters()
  #presence: DocPresence
  readonly #loaded: Promise<void>
  readonly #edits: LocalEdits
  readonly #traces: EditTraces
  readonly #repair: RefusalRepair
  readonly #sessionHost: SessionHost
  /** This document on the current connection; replaced whole when the connection ends. */
  #session: DocSession
  #status: SyncStatus = { state: 'offline', reason: 'not connected yet' }
  #paused = false
  #closed = false
  #lastSavedAt: number | null = null
  #reopenAttempt = 0
  readonly #outboxWatch: OutboxWatch | null

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
    this.#doc = options.doc ?? new Y.Doc({ guid: newDocGuid() })
    this.#awareness = options.awareness ?? new awarenessProtocol.Awareness(this.#doc)
    this.#persistence = new LocalPersistence(
      settings.store,
      name,
      settings,
      () => Y.encodeStateAsUpdate(this.doc),
      (error) => this.#localStoreFailed(error),
    )
    this.#traces = new EditTraces(settings.tracer, name)
    this.#edits = new LocalEdits(this.#persistence, {
      send: (records) => {
        if (this.#closed) return
        this.#owner.storedEdits?.(
          this.name,
          records.map((record) => record.update),
        )
        this.#session.sendEdits(records)
      },
      pendingChanged: (pending) => {
        this.emit('pending', [pending])
        this.#outboxWatch?.check()
      },
      wallNow: () => settings.clock.wallNow(),
      compaction: settings.outboxCompaction,
      encodeStateSince: (stateVector) => Y.encodeStateAsUpdate(this.doc, stateVector),
      traces: this.#traces,
    })
    const { outboxLimits } = settings
    this.#outboxWatch =
      outboxLimits === null
        ? null
        : new OutboxWatch(
            outboxLimits,
            settings.clock,
            () => this.#outboxNow(),
            (state) => this.emit('outbox-limit', [state]),
          )
    this.#repair = new RefusalRepair(this.#repairHost())
    this.#sessionHost = this.#newSessionHost()
    this.#session = new DocSession(this.#sessionHost)
    this.#presence = this.#newPresence(this.#awareness, options.awareness === undefined)
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

  /** Where this document stands. */
  get status(): SyncStatus {
    return this.#status
  }

  /** True once the relay's state has arrived on the current connection. */
  get synced(): boolean {
    return this.#session.synced
  }

  /** True while syncing is paused (by `pause()`, or after an error that retrying cannot fix). */
  get paused(): boolean {
    return this.#paused
  }

  /** Local edits the relay has not yet reported durable. */
  get pending(): number {
    return this.#edits.pending
  }

  /** Bytes of those edits. */
  get pendingBytes(): number {
    return this.#edits.pendingBytes
  }

  /**
   * The edits waiting for the relay: how many, their bytes, when the oldest was made, and which
   * of `outboxLimits` they pass (event `outbox-limit` when that changes).
   */
  get outbox(): OutboxState {
    return this.#outboxWatch?.state() ?? { ...this.#outboxNow(), exceeded: [] }
  }

  #outboxNow(): Omit<OutboxState, 'exceeded'> {
    const edits = this.#edits
    return {
      pending: edits.pending,
      pendingBytes: edits.pendingBytes,
      oldestPendingAt: edits.oldestPendingAt,
    }
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
    return this.synced ? Promise.resolve() : this.#waiters.waitSynced()
  }

  /**
   * Resolves once every local edit made so far is durable on the relay. Rejects with `CLOSED` if
   * the handle closes first, or with the edit's code if one of them is refused. Called before the
   * local copy has loaded, it also waits for the edits made until then.
   */
  whenSaved(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError(this.name))
    if (this.#edits.loading) return this.#loaded.then(() => this.whenSaved())
    const { outbox } = this.#edits
    if (outbox.size === 0) return Promise.resolve()
    return this.#waiters.waitSaved(outbox.lastRef)
  }

  /** Stops syncing this document (edits keep collecting locally) until {@link resume}. */
  pause(): void {
    if (this.#paused || this.#closed) return
    if (this.#session.opened) this.#owner.send({ type: 'close', doc: this.name })
    this.#paused = true
    this.#endSession()
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
    if (this.#session.opened) this.#owner.send({ type: 'close', doc: this.name })
    this.#closed = true
    this.#outboxWatch?.stop()
    this.#endSession()
    this.doc.off('update', this.#onDocUpdate)
    this.#waiters.rejectAll(closedError(this.name))
    this.#traces.closed()
    this.#owner.release(this)
    await this.#loaded
    await this.#persistence.flush()
    if (this.#persistence.wantsCompaction) await this.#persistence.compact().catch(() => {})
  }

  /** @internal The connection is ready: open the document on it (once the local copy is loaded). */
  connectionReady(): void {
    if (this.#closed || this.#paused || this.#edits.loading) return
    this.#session.timers.clear('reopen')
    // Reopening while a refusal is repaired asks for everything: the answer rebuilds the doc.
    const stateVector = this.#repair.resetting ? EMPTY_STATE_VECTOR : Y.encodeStateVector(this.doc)
    if (this.#session.open(stateVector)) this.#setStatus({ state: 'syncing' })
  }

  /** @internal The connection went down: forget per-connection state and remote presence. */
  connectionDown(): void {
    this.#endSession()
    this.#presence.forgetOthers(this)
  }

  /** @internal The connection's status, mirrored while the document is not open on it. */
  connectionStatus(status: SyncStatus): void {
    if (!this.#session.opened && !this.#paused && this.#status.state !== 'error')
      this.#setStatus(status)
  }

  /** @internal A message from the relay about this document. */
  receive(message: Messages): void {
    if (this.#closed || !this.#session.opened) return
    switch (message.type) {
      case 'sync-step-2':
        if (!this.#repair.syncArrived(message.update)) this.#applyRemote([message.update])
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
        return this.#repair.refuse(message.ref, message.code, message.reason)
      case 'error':
        return this.#closedByRelay(message.code, message.reason)
      case 'close':
        return this.#closedByRelay('UNAVAILABLE', 'the relay closed the document')
      default:
        return
    }
  }

  /**
   * @internal Applies edits another tab made (relayed through this handle, which holds the
   * connection) with `origin`, and puts them in the outbox byte for byte, even where this
   * document already had their content: their acknowledgement must come from the relay, never
   * from a copy here. Returns the ref whose acknowledgement covers them. Only once loaded.
   */
  applyForwarded(
    updates: readonly Uint8Array[],
    origin: object,
    traces: ReadonlyArray<TraceContext | null> = [],
  ): number {
    if (this.#closed) throw closedError(this.name)
    if (this.#edits.loading) throw new WeftError('INTERNAL', `${this.name} is not loaded yet`)
    return this.#edits.forward(this.doc, updates, origin, traces)
  }

  /**
   * @internal Applies edits another tab of this device made while neither reaches the relay: as
   * updates from elsewhere (stored as state, not in this handle's outbox: the tab that made them
   * keeps them until the relay has them).
   */
  applyPeer(updates: readonly Uint8Array[]): void {
    if (!this.#closed) this.#applyRemote(updates)
  }

  /** @internal The oldest ref waiting for the relay, or `undefined` when none is. */
  get oldestPendingRef(): number | undefined {
    return this.#edits.outbox.oldestRef
  }

  /** @internal Sends an awareness update of another tab's clients while the document is open. */
  sendAwareness(update: Uint8Array): void {
    if (this.#session.opened) this.#owner.send({ type: 'awareness', doc: this.name, update })
  }

  async #load(): Promise<void> {
    let stored: LocalDoc
    try {
      stored = await this.#persistence.load()
    } catch (error) {
      // Reported through #localStoreFailed. What is stored may hold unsent edits: do not write
      // over it (new refs could replace them) and do not sync a copy that lacks them.
      this.#persistence.disable()
      this.#edits.abandonEarly()
      const code =
        error instanceof WeftError && error.code === 'DECRYPTION_FAILED'
          ? error.code
          : 'LOCAL_STORE_FAILED'
      this.#stop(code, `the local copy could not be read: ${String(error)}`)
      this.emit('loaded', [])
      return
    }
    this.#edits.restore(this.doc, stored)
    if (this.#persistence.wantsCompaction) this.#persistence.compact().catch(() => {})
    this.emit('loaded', [])
    if (this.#owner.ready) this.connectionReady()
  }

  #onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === LOCAL_COPY || origin === this || this.#closed) return
    this.#edits.add(update)
  }

  /** Applies updates from the relay and, if they changed anything, stores them as received. */
  #applyRemote(updates: readonly Uint8Array[]): void {
    const changed = applyRemoteUpdates(this.doc, updates, this, this.#onDocUpdate)
    if (changed) for (const update of updates) this.#persistence.recordRemote(update)
    this.#repair.watchDependencies()
  }

  #answerSyncStep1(stateVector: Uint8Array): void {
    const update = Y.encodeStateAsUpdate(this.doc, stateVector)
    if (!this.#session.fits(update.length)) {
      this.#stop(
        'MESSAGE_TOO_BIG',
        `what the relay lacks (${update.length} bytes) is over its frame limit`,
      )
      return
    }
    this.#session.answer(update)
  }

  #markSynced(): void {
    if (!this.#session.markSynced()) return
    this.#reopenAttempt = 0
    this.#presence.announce()
    this.#setStatus({ state: 'synced' })
    this.#waiters.synced()
    this.emit('synced', [])
  }

  #saved(ref: number, stateVector: Uint8Array): void {
    this.#session.sender.acknowledged(ref)
    const settled = this.#edits.settle(ref, stateVector)
    if (settled.length === 0) return
    const latencyMs = this.#session.settled(settled)
    this.#lastSavedAt = this.#settings.clock.wallNow()
    this.#waiters.saved(this.#edits.outbox.oldestRef)
    this.emit('saved', [{ ref, pending: this.pending, latencyMs }])
    this.#edits.pendingChanged()
  }

  #closedByRelay(rawCode: string, reason: string): void {
    const code = isErrorCode(rawCode) ? rawCode : 'INTERNAL'
    // An answer to a frame sent before the relay closed the document, arriving after this
    // handle already sent its `open` again: that reopen is under way.
    if (code === 'DOC_NOT_OPEN' && this.#session.awaitingSync) return
    this.#endSession()
    this.emit('error', [new WeftError(code, `${this.name}: ${reason}`)])
    if (ERROR_CODES[code].retry === 'stop') return this.#stop(code, reason)
    this.#setStatus({ state: 'connecting', attempt: this.#reopenAttempt, reason })
    this.#session.timers.set('reopen', this.#owner.retryDelayMs(this.#reopenAttempt++), () => {
      if (this.#owner.ready) this.connectionReady()
    })
  }

  /** This document stops syncing for a reason retrying cannot fix; the others keep working. */
  #stop(code: ErrorCode, reason: string): void {
    if (this.#session.opened) this.#owner.send({ type: 'close', doc: this.name })
    this.#endSession()
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

  /** Forgets the current connection: its counters, send times and timers go with its session. */
  #endSession(): void {
    this.#session.end()
    this.#session = new DocSession(this.#sessionHost)
  }

  #setStatus(status: SyncStatus): void {
    this.#status = status
    this.emit('status', [status])
    this.#owner.handleStatusChanged()
  }

  /** Puts `doc` (rebuilt after a refusal) in place, with a fresh awareness keeping local state. */
  #replaceDoc(doc: Y.Doc): void {
    const previous = this.#doc
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

  #newPresence(awareness: awarenessProtocol.Awareness, owned: boolean): DocPresence {
    return new DocPresence(
      awareness,
      owned,
      (update) => void this.#owner.send({ type: 'awareness', doc: this.name, update }),
      () => this.#session.opened,
    )
  }

  #newSessionHost(): SessionHost {
    const handle = this
    const owner = this.#owner
    return {
      name: this.name,
      send: (message) => owner.send(message),
      get maxMessageBytes() {
        return owner.maxMessageBytes
      },
      get outbox() {
        return handle.#edits.outbox
      },
      stateVector: () => Y.encodeStateVector(this.doc),
      tooBig: (ref, reason) => this.#repair.refuseOne(ref, 'MESSAGE_TOO_BIG', reason),
      traces: this.#traces,
      get carriesTraces() {
        return owner.carriesTraces === true
      },
      clock: this.#settings.clock,
      ackTimeoutMs: this.#settings.ackTimeoutMs,
    }
  }

  #repairHost(): RepairHost {
    const handle = this
    return {
      name: this.name,
      get doc() {
        return handle.#doc
      },
      get closed() {
        return handle.#closed
      },
      get session() {
        return handle.#session
      },
      edits: this.#edits,
      waiters: this.#waiters,
      refused: this.rejected,
      repairAfterMs: this.#settings.repairAfterMs,
      events: this,
      replaceDoc: (doc) => this.#replaceDoc(doc),
    }
  }
}

const closedError = (name: string): WeftError =>
  new WeftError('CLOSED', `document "${name}" was closed`)
