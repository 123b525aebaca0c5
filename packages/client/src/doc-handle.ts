/** DocHandle: one open document — its Y.Doc, awareness, outbox, status and durability promises. */
import { ERROR_CODES, isErrorCode, WeftError, type WeftMessage } from '@weft/protocol'
import { ObservableV2 } from 'lib0/observable'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { Outbox } from './outbox.js'
import type { SyncStatus } from './status.js'

/** Events of a {@link DocHandle}. */
export interface DocHandleEvents {
  /** The status changed. */
  status: (status: SyncStatus) => void
  /** The relay's state arrived after (re)opening; the document is live. */
  synced: () => void
  /** The relay reported local edits durable; `pending` is the number still waiting. */
  saved: (event: { ref: number; pending: number }) => void
  /** The relay refused an update; it was not applied, stored or forwarded. */
  rejected: (event: { ref: number; code: string; reason: string }) => void
  /** The relay closed this document with an error. */
  error: (error: WeftError) => void
}

/** How a handle reaches its client. */
export interface HandleOwner {
  send(message: WeftMessage): boolean
  readonly ready: boolean
  /** Delay before reopening a document the relay closed with a retryable error. */
  retryDelayMs(attempt: number): number
  release(handle: DocHandle): void
  handleStatusChanged(): void
}

type Messages = Extract<WeftMessage, { doc: string }>

/**
 * A document opened through a client. Local edits to `doc` apply at once, enter the outbox and
 * are sent; `pending` counts those the relay has not yet reported durable, so it never claims
 * "saved" for an edit that is not on the relay's disk.
 */
export class DocHandle extends ObservableV2<DocHandleEvents> {
  readonly name: string
  readonly doc: Y.Doc
  readonly awareness: awarenessProtocol.Awareness
  readonly #owner: HandleOwner
  readonly #outbox = new Outbox()
  #status: SyncStatus = { state: 'offline', reason: 'not connected yet' }
  #opened = false
  #synced = false
  #closed = false
  #lastSavedAt: number | null = null
  #savedWaiters: Array<{ ref: number; resolve: () => void; reject: (error: Error) => void }> = []
  #syncedWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = []
  #reopenTimer: ReturnType<typeof setTimeout> | null = null
  #reopenAttempt = 0

  /** @internal Created by `WeftClient.open`. */
  constructor(name: string, owner: HandleOwner) {
    super()
    this.name = name
    this.#owner = owner
    this.doc = new Y.Doc()
    this.awareness = new awarenessProtocol.Awareness(this.doc)
    this.doc.on('update', this.#onDocUpdate)
    this.awareness.on('update', this.#onAwarenessUpdate)
  }

  /** Where this document stands. */
  get status(): SyncStatus {
    return this.#status
  }

  /** True once the relay's state has arrived on the current connection. */
  get synced(): boolean {
    return this.#synced
  }

  /** Number of local edits the relay has not yet reported durable. */
  get pending(): number {
    return this.#outbox.size
  }

  /** Bytes of those edits. */
  get pendingBytes(): number {
    return this.#outbox.bytes
  }

  /** When the relay last reported local edits durable (ms since the epoch), or `null`. */
  get lastSavedAt(): number | null {
    return this.#lastSavedAt
  }

  /** Resolves once the document is synced (at once if it is). Rejects with `CLOSED` if closed first. */
  whenSynced(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError(this.name))
    if (this.#synced) return Promise.resolve()
    return new Promise((resolve, reject) => this.#syncedWaiters.push({ resolve, reject }))
  }

  /**
   * Resolves once every local edit made so far is durable on the relay (at once when none is
   * pending). Rejects with `CLOSED` if the handle is closed first.
   */
  whenSaved(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError(this.name))
    if (this.#outbox.size === 0) return Promise.resolve()
    const ref = this.#outbox.lastRef
    return new Promise((resolve, reject) => this.#savedWaiters.push({ ref, resolve, reject }))
  }

  /** Stops syncing this document: withdraws presence, tells the relay, and rejects waiters. */
  close(): void {
    if (this.#closed) return
    awarenessProtocol.removeAwarenessStates(this.awareness, [this.doc.clientID], 'local')
    if (this.#opened) this.#owner.send({ type: 'close', doc: this.name })
    this.#closed = true
    this.#opened = false
    this.#clearReopen()
    this.doc.off('update', this.#onDocUpdate)
    this.awareness.destroy()
    for (const waiter of [...this.#savedWaiters, ...this.#syncedWaiters])
      waiter.reject(closedError(this.name))
    this.#savedWaiters = []
    this.#syncedWaiters = []
    this.#owner.release(this)
  }

  /** @internal The connection is ready: open the document on it. */
  connectionReady(): void {
    if (this.#closed) return
    this.#clearReopen()
    this.#opened = this.#owner.send({
      type: 'open',
      doc: this.name,
      stateVector: Y.encodeStateVector(this.doc),
    })
    if (this.#opened) this.#setStatus({ state: 'syncing' })
  }

  /** @internal The connection went down: forget per-connection state and remote presence. */
  connectionDown(): void {
    this.#opened = false
    this.#synced = false
    this.#clearReopen()
    const remote = [...this.awareness.getStates().keys()].filter((id) => id !== this.doc.clientID)
    awarenessProtocol.removeAwarenessStates(this.awareness, remote, this)
  }

  /** @internal The connection's status, mirrored while the document is not open on it. */
  connectionStatus(status: SyncStatus): void {
    if (!this.#opened && this.#status.state !== 'error') this.#setStatus(status)
  }

  /** @internal A message from the relay about this document. */
  receive(message: Messages): void {
    if (this.#closed) return
    switch (message.type) {
      case 'sync-step-2':
        Y.applyUpdate(this.doc, message.update, this)
        return this.#markSynced()
      case 'sync-step-1':
        this.#owner.send({
          type: 'sync-step-2',
          doc: this.name,
          ref: this.#outbox.lastRef,
          update: Y.encodeStateAsUpdate(this.doc, message.stateVector),
        })
        return
      case 'update':
        Y.applyUpdate(this.doc, message.update, this)
        return
      case 'awareness':
        awarenessProtocol.applyAwarenessUpdate(this.awareness, message.update, this)
        return
      case 'saved':
        return this.#saved(message.ref)
      case 'rejected':
        this.emit('rejected', [{ ref: message.ref, code: message.code, reason: message.reason }])
        return
      case 'error':
        return this.#closedByRelay(message.code, message.reason)
      case 'close':
        return this.#closedByRelay('UNAVAILABLE', 'the relay closed the document')
      default:
        return
    }
  }

  #onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === this) return
    const entry = this.#outbox.push(update)
    if (this.#opened) this.#owner.send({ type: 'update', doc: this.name, ref: entry.ref, update })
  }

  #onAwarenessUpdate = (
    change: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    if (origin !== 'local' || !this.#opened) return
    const ids = [...change.added, ...change.updated, ...change.removed]
    const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, ids)
    this.#owner.send({ type: 'awareness', doc: this.name, update })
  }

  #markSynced(): void {
    if (this.#synced) return
    this.#synced = true
    this.#reopenAttempt = 0
    if (this.awareness.getLocalState() !== null) {
      const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, [this.doc.clientID])
      this.#owner.send({ type: 'awareness', doc: this.name, update })
    }
    this.#setStatus({ state: 'synced' })
    for (const waiter of this.#syncedWaiters) waiter.resolve()
    this.#syncedWaiters = []
    this.emit('synced', [])
  }

  #saved(ref: number): void {
    const dropped = this.#outbox.acknowledge(ref)
    if (dropped === 0 && ref === 0) return
    this.#lastSavedAt = Date.now()
    const waiting = this.#savedWaiters
    this.#savedWaiters = waiting.filter((waiter) => waiter.ref > ref)
    for (const waiter of waiting) if (waiter.ref <= ref) waiter.resolve()
    this.emit('saved', [{ ref, pending: this.#outbox.size }])
  }

  #closedByRelay(rawCode: string, reason: string): void {
    const code = isErrorCode(rawCode) ? rawCode : 'INTERNAL'
    const error = new WeftError(code, `${this.name}: ${reason}`)
    this.#opened = false
    this.#synced = false
    this.emit('error', [error])
    if (ERROR_CODES[code].retry === 'stop') {
      this.#setStatus({ state: 'error', code, reason })
      return
    }
    this.#setStatus({ state: 'connecting', attempt: this.#reopenAttempt, reason })
    const delay = this.#owner.retryDelayMs(this.#reopenAttempt++)
    this.#reopenTimer = setTimeout(() => {
      this.#reopenTimer = null
      if (this.#owner.ready) this.connectionReady()
    }, delay)
  }

  #clearReopen(): void {
    if (this.#reopenTimer !== null) clearTimeout(this.#reopenTimer)
    this.#reopenTimer = null
  }

  #setStatus(status: SyncStatus): void {
    this.#status = status
    this.emit('status', [status])
    this.#owner.handleStatusChanged()
  }
}

const closedError = (name: string): WeftError =>
  new WeftError('CLOSED', `document "${name}" was closed`)
