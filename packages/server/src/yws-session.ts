/** YwsSession: the y-websocket dialect — one document per socket, plain y-protocols messages. */
import { WeftError } from '@weft/protocol'
import type { Outgoing } from './outgoing.js'
import type { Room, RoomPeer } from './room.js'
import type { SocketHandler, SocketLink } from './socket-link.js'
import type { SessionContext } from './weft-session.js'
import {
  decodeYwsMessage,
  encodeYwsAwareness,
  encodeYwsSync,
  type YwsMessage,
} from './yws-codec.js'

/**
 * A stock y-websocket client at `ws://host/<docName>`. The relay answers only once the document
 * has loaded, sends its own sync step 1 and the awareness states, and then relays updates and
 * awareness. This dialect has no acknowledgements; any error closes the socket with its code.
 */
export class YwsSession implements SocketHandler, RoomPeer {
  readonly dialect = 'y-websocket'
  readonly author = 'anonymous'
  readonly correlationId = ''
  readonly #link: SocketLink
  readonly #context: SessionContext
  readonly #name: string
  #room: Room | null = null
  #queue: YwsMessage[] | null = []
  #queuedBytes = 0

  constructor(link: SocketLink, name: string, context: SessionContext) {
    this.#link = link
    this.#context = context
    this.#name = name
    link.setHandler(this)
    context.registry.acquire(name, this).then(
      (room) => link.guard(() => this.#loaded(room)),
      (error: unknown) => {
        link.close(
          error instanceof WeftError
            ? error
            : new WeftError('UNAVAILABLE', 'load failed', { cause: error }),
        )
      },
    )
  }

  onFrame(frame: Uint8Array): void {
    const message = decodeYwsMessage(frame)
    if (this.#queue !== null) {
      this.#queuedBytes += 'update' in message ? message.update.length : 64
      if (this.#queuedBytes > this.#context.maxQueuedBytes) {
        throw new WeftError(
          'RATE_LIMITED',
          `over ${this.#context.maxQueuedBytes} bytes queued while the document loads`,
        )
      }
      this.#queue.push(message)
      return
    }
    if (this.#room !== null) this.#handle(this.#room, message)
  }

  onClosed(): void {
    if (this.#room !== null) this.#context.registry.release(this.#room, this)
    this.#room = null
    this.#queue = null
  }

  deliver(message: Outgoing): void {
    for (const frame of message.frames('y-websocket')) this.#link.send(frame)
  }

  saved(): void {
    // The y-websocket dialect has no acknowledgements.
  }

  roomFailed(error: WeftError): void {
    this.#room = null
    this.#link.close(error)
  }

  #loaded(room: Room): void {
    if (!this.#link.open) {
      this.#context.registry.release(room, this)
      return
    }
    this.#room = room
    const queued = this.#queue ?? []
    this.#queue = null
    // The client's sync step 1 first: a fresh client can get the stored bytes before the relay
    // applies them; the relay's own step 1 follows in a later turn.
    for (const message of queued) {
      if (this.#room === null) break
      this.#handle(this.#room, message)
    }
    setImmediate(() =>
      this.#link.guard(() => {
        if (this.#room !== room || !this.#link.open) return
        this.#link.send(encodeYwsSync('sync-step-1', room.stateVector()))
        this.#sendAwarenessStates(room)
      }),
    )
  }

  #handle(room: Room, message: YwsMessage): void {
    switch (message.type) {
      case 'sync-step-1': {
        const stored = room.storedContent(message.stateVector)
        if (stored !== null) return this.#link.send(encodeYwsSync('sync-step-2', stored))
        const diff = room.diff(message.stateVector)
        if (diff instanceof WeftError) throw diff
        return this.#link.send(encodeYwsSync('sync-step-2', diff))
      }
      case 'sync-step-2':
      case 'update': {
        const error = room.applyUpdate(this, message.update, 0)
        if (error !== undefined) throw error
        return
      }
      case 'awareness': {
        const error = room.applyAwareness(this, message.update)
        if (error !== undefined) throw error
        return
      }
      case 'query-awareness':
        return this.#sendAwarenessStates(room)
    }
  }

  #sendAwarenessStates(room: Room): void {
    const states = room.awarenessStates()
    if (states !== null) this.#link.send(encodeYwsAwareness(states))
  }
}
