/** LocalPeer: a room peer inside the relay process (a service or an operator), without a socket. */
import { ROOT_CONTEXT, type Context } from '@opentelemetry/api'
import type { WeftError } from '@weft/protocol'
import type { Outgoing } from './outgoing.js'
import type { RoomPeer } from './room.js'

interface Waiter {
  readonly ref: number
  readonly resolve: () => void
  readonly reject: (error: WeftError) => void
}

/** Who a local peer writes as. */
export interface LocalPeerOptions {
  readonly author: string
  readonly correlationId: string
  /** Owner of the Yjs client ids it writes under; `null` leaves them unchecked. */
  readonly owner: string | null
  /** The trace its writes join (see {@link LocalPeer.traceContext}). Default: a new trace each. */
  readonly traceContext?: Context
}

/** What a local peer's owner hears of the room. */
export interface LocalPeerListener {
  /** Updates and presence of the room's other peers. */
  readonly deliver?: (message: Outgoing) => void
  /** Everything up to a ref is durable; `stateVector` is what is on disk. */
  readonly saved?: (stateVector: Uint8Array) => void
  /** The room failed (storage): nothing more will be acknowledged. */
  readonly failed?: (error: WeftError) => void
}

/**
 * A peer that waits for acknowledgements by ref: `whenSaved(ref)` resolves once the room reports
 * everything up to `ref` durable, and rejects if the room fails first.
 */
export class LocalPeer implements RoomPeer {
  readonly dialect = 'weft' as const
  readonly author: string
  readonly correlationId: string
  readonly owner: string | null
  /**
   * The trace context the room starts this peer's next `weft.update` spans under; a service
   * document sets it to the context active at each change.
   */
  traceContext: Context
  #listener: LocalPeerListener = {}
  #waiters: Waiter[] = []
  #savedRef = 0
  #failure: WeftError | null = null

  constructor(options: LocalPeerOptions) {
    this.author = options.author
    this.correlationId = options.correlationId
    this.owner = options.owner
    this.traceContext = options.traceContext ?? ROOT_CONTEXT
  }

  /** Sets what the owner hears of the room (replacing an earlier listener). */
  listen(listener: LocalPeerListener): void {
    this.#listener = listener
  }

  /** Resolves once everything this peer sent up to `ref` is durable. */
  whenSaved(ref: number): Promise<void> {
    if (this.#failure !== null) return Promise.reject(this.#failure)
    if (ref <= this.#savedRef) return Promise.resolve()
    return new Promise((resolve, reject) => this.#waiters.push({ ref, resolve, reject }))
  }

  deliver(message: Outgoing): void {
    this.#listener.deliver?.(message)
  }

  saved(ref: number, stateVector: Uint8Array): void {
    this.#savedRef = Math.max(this.#savedRef, ref)
    this.#listener.saved?.(stateVector)
    const waiting: Waiter[] = []
    for (const waiter of this.#waiters) {
      if (waiter.ref <= this.#savedRef) waiter.resolve()
      else waiting.push(waiter)
    }
    this.#waiters = waiting
  }

  roomFailed(error: WeftError): void {
    this.#failure = error
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error)
    this.#listener.failed?.(error)
  }
}
