/**
 * ServiceDocument: a document opened by code running with the relay — no socket — whose changes
 * take the same path as a client's: validated, applied, fanned out, stored, acknowledged once
 * durable, and attributed to the service.
 */
import { context as activeContext, trace, type Context } from '@opentelemetry/api'
import { openModel, type Fields, type Model, type AnySchema } from '@weft/doc'
import { WeftError } from '@weft/protocol'
import * as Y from 'yjs'
import type { DocAccess } from './auth.js'
import { LocalPeer } from './local-peer.js'
import type { Outgoing } from './outgoing.js'
import type { Room } from './room.js'
import type { RecordWriter } from './record-rules.js'
import { FULL_ACCESS, writeDenied } from './write-rules.js'

/** Marks updates that came from the room, so they are not sent back to it. */
const FROM_ROOM = Symbol('weft:from-room')

/** What a service document needs from the relay. */
export interface ServiceDocumentContext {
  readonly room: Room
  /** Leaves the room (the relay unloads it later if nobody else is in it). */
  readonly release: (peer: LocalPeer) => void
  readonly schema: AnySchema | null
  /** What its writes may touch (a token's scope over HTTP); `null`: anything. */
  readonly access: DocAccess | null
  /** Who the record rules judge (a token's subject and roles over HTTP); `null`: not applied. */
  readonly writer?: RecordWriter | null
}

/**
 * One service's view of a document: `doc` is a replica kept current with every change the
 * relay accepts, and `transact` (or `change`, through the document model) edits it. A change
 * resolves once it is on disk; one the relay refuses rejects with the reason and leaves the
 * document as it was (the replica is rebuilt from the relay's copy).
 *
 * ```ts
 * const board = await relay.documents.open('team-7/board', { service: 'estimator' })
 * await board.change((model) => model.collection('tasks').update(id, { estimate: 3 }))
 * await board.close()
 * ```
 */
export class ServiceDocument {
  readonly name: string
  readonly #peer: LocalPeer
  readonly #context: ServiceDocumentContext
  readonly #openedInTrace: Context
  #replica: Y.Doc
  #ref = 0
  /** Why the change being made failed (set while a transaction ends), if it did. */
  #refusal: WeftError | null = null
  #aborting = false
  #inTransact = false
  #closed: WeftError | null = null

  /** Wraps `peer`, already in `room`; use `relay.documents.open`. */
  constructor(name: string, peer: LocalPeer, context: ServiceDocumentContext) {
    this.name = name
    this.#peer = peer
    this.#context = context
    this.#openedInTrace = peer.traceContext
    this.#replica = this.#rebuild()
  }

  /** Who its changes are attributed to. */
  get author(): string {
    return this.#peer.author
  }

  /**
   * The document, current with every change the relay has accepted. Read it freely; change it
   * inside `transact`. After a refused change it is a new `Y.Doc`: read `doc` again.
   */
  get doc(): Y.Doc {
    return this.#replica
  }

  /** The document model on `doc` (writes attributed to the service), or `null` without a schema. */
  get model(): Model<Readonly<Record<string, Fields>>> | null {
    const { schema } = this.#context
    return schema === null ? null : openModel(this.#replica, schema, { author: this.author })
  }

  /**
   * Runs `edit` on the document in one transaction and resolves with its result once the change
   * is durable (at once when it changed nothing). If `edit` throws, nothing is sent and the
   * error is rethrown; a change the relay refuses (scope, malformed) rejects with its code.
   */
  async transact<T>(edit: (doc: Y.Doc) => T): Promise<T> {
    this.#assertOpen()
    if (typeof edit !== 'function') {
      throw new WeftError('INVALID_ARGUMENT', 'transact needs a function that edits the document')
    }
    const before = this.#ref
    // A change made inside a span joins its trace; otherwise the trace of `open`'s caller.
    const active = activeContext.active()
    this.#peer.traceContext =
      trace.getSpanContext(active) === undefined ? this.#openedInTrace : active
    let outcome: { ok: true; result: T } | { ok: false; error: unknown } | null = null
    this.#refusal = null
    this.#inTransact = true
    const replica = this.#replica
    try {
      replica.transact(() => {
        try {
          outcome = { ok: true, result: edit(replica) }
        } catch (error) {
          // Yjs still ends the transaction: what `edit` did so far must not be sent.
          outcome = { ok: false, error }
          this.#aborting = true
        }
      }, this)
    } finally {
      this.#aborting = false
      this.#inTransact = false
    }
    const done = outcome as { ok: true; result: T } | { ok: false; error: unknown } | null
    const refusal = this.#refusal as WeftError | null
    if (done === null || !done.ok || refusal !== null) {
      // The replica holds what was not sent or was refused: start again from the relay's copy.
      this.#replica = this.#rebuild()
      throw refusal ?? (done !== null && !done.ok ? done.error : new Error('edit did not run'))
    }
    if (this.#ref > before) await this.#peer.whenSaved(this.#ref)
    return done.result
  }

  /**
   * Like `transact`, through the document model of the relay's schema for this document. Throws
   * `INVALID_ARGUMENT` when the relay has no schema for it.
   */
  async change<T>(edit: (model: Model<Readonly<Record<string, Fields>>>) => T): Promise<T> {
    this.#assertOpen()
    if (this.#context.schema === null) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `document "${this.name}" has no schema on this relay; use transact, or configure one`,
      )
    }
    return this.transact(() => edit(this.model as Model<Readonly<Record<string, Fields>>>))
  }

  /** Resolves once every change made so far is durable. */
  whenSaved(): Promise<void> {
    return this.#peer.whenSaved(this.#ref)
  }

  /** Leaves the document. Changes already made stay (they are durable or still being written). */
  async close(): Promise<void> {
    if (this.#closed !== null) return
    this.#closed = new WeftError('CLOSED', `the service document "${this.name}" was closed`)
    this.#replica.off('update', this.#send)
    this.#context.release(this.#peer)
  }

  /** Room messages (other peers' changes) reach the replica here. */
  receive(message: Outgoing): void {
    if (this.#closed !== null) return
    for (const update of message.updates) Y.applyUpdate(this.#replica, update, FROM_ROOM)
  }

  /** The room failed (storage): the handle is closed; open the document again later. */
  failed(error: WeftError): void {
    this.#closed ??= error
  }

  #assertOpen(): void {
    if (this.#closed !== null) throw this.#closed
  }

  /** A replica with the room's content, sending its local edits to the room. */
  #rebuild(): Y.Doc {
    this.#replica?.off('update', this.#send)
    const replica = new Y.Doc({ guid: this.name })
    Y.applyUpdate(replica, Y.encodeStateAsUpdate(this.#context.room.doc), FROM_ROOM)
    replica.on('update', this.#send)
    return replica
  }

  /** Sends a local edit to the room (edits made outside `transact` too: none is lost). */
  #send = (update: Uint8Array, origin: unknown): void => {
    if (origin === FROM_ROOM || this.#aborting || this.#closed !== null) return
    const { room, access, writer = null } = this.#context
    // Schema and record rules hold for services too: only the token's scope is theirs to skip.
    const denied = writeDenied(access ?? FULL_ACCESS, room, [update], writer)
    const error = denied ?? room.applyUpdate(this.#peer, update, this.#ref + 1)
    if (error === undefined) {
      this.#ref += 1
      return
    }
    this.#refusal = error
    // Refused outside `transact`, nobody is told but the replica must not keep it.
    if (!this.#inTransact) queueMicrotask(() => (this.#replica = this.#rebuild()))
  }
}
