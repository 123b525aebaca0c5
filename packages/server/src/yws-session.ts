/** YwsSession: the y-websocket dialect — one document per socket, plain y-protocols messages. */
import type { Context } from '@opentelemetry/api'
import { WeftError } from '@weft/protocol'
import type { Outgoing } from './outgoing.js'
import type { Room, RoomPeer } from './room.js'
import type { Identity } from './auth.js'
import { SessionAuth, type AuthenticatedSession } from './session-auth.js'
import type { SocketHandler, SocketLink } from './socket-link.js'
import type { SessionContext } from './weft-session.js'
import { recordWriterOf, writeDenied } from './write-rules.js'
import {
  decodeYwsMessage,
  encodeYwsAwareness,
  encodeYwsSync,
  type YwsMessage,
} from './yws-codec.js'

/** Silence after which a frame from the client is answered with a keepalive. */
const KEEPALIVE_AFTER_MS = 10_000
/** An awareness message naming no client: a stock provider counts it as traffic, and ignores it. */
const EMPTY_AWARENESS_FRAME = encodeYwsAwareness(new Uint8Array([0]))

/**
 * A stock y-websocket client at `ws://host/<docName>?token=…`. The token is verified first (a
 * refused one closes with 4401, a document it does not cover with 4403); the relay answers only
 * once the document has loaded, sends its own sync step 1 and the awareness states, and then
 * relays updates and awareness. This dialect has no acknowledgements and no `rejected`: any
 * error, a refused edit included, closes the socket with its code.
 */
export class YwsSession implements SocketHandler, RoomPeer, AuthenticatedSession {
  readonly dialect = 'y-websocket'
  readonly correlationId = ''
  readonly #link: SocketLink
  readonly #context: SessionContext
  readonly #name: string
  readonly #auth: SessionAuth
  #room: Room | null = null
  #queue: YwsMessage[] | null = []
  #queuedBytes = 0
  /** When a frame last went to the client (ms since the epoch). */
  #lastSentMs = Date.now()

  constructor(link: SocketLink, name: string, token: string, context: SessionContext) {
    this.#link = link
    this.#context = context
    this.#name = name
    this.#auth = new SessionAuth(context.auth, (error) => link.close(error))
    link.setHandler(this)
    const timer = setTimeout(() => {
      link.close(
        new WeftError('TIMEOUT', `the token was not verified within ${context.helloTimeoutMs} ms`),
      )
    }, context.helloTimeoutMs)
    this.#auth.login(token).then(
      () => {
        clearTimeout(timer)
        link.bindLog({ user: this.#auth.subject })
        link.guard(() => this.#authenticated())
      },
      (error: unknown) => {
        clearTimeout(timer)
        link.close(
          error instanceof WeftError && (error.code === 'UNAUTHORIZED' || error.code === 'REVOKED')
            ? error
            : new WeftError('UNAUTHORIZED', 'the token could not be verified', { cause: error }),
        )
      },
    )
  }

  get traceContext(): Context {
    return this.#context.traceContext
  }

  /** The token subject (`anonymous` in open mode), written beside this session's edits. */
  get subject(): string {
    return this.#auth.subject
  }

  get author(): string {
    return this.#auth.subject
  }

  get identity(): Identity | null {
    return this.#auth.identity
  }

  get owner(): string | null {
    return this.#auth.owner
  }

  /** The verified token's claims, for presence set from them; `null` before login. */
  get claims(): Readonly<Record<string, unknown>> | null {
    return this.#auth.identity?.claims ?? null
  }

  revoke(error: WeftError): void {
    this.#link.close(error)
  }

  #authenticated(): void {
    if (!this.#link.open) return
    if (!this.#auth.access(this.#name).read) {
      throw new WeftError('FORBIDDEN', 'the token does not cover this document')
    }
    this.#context.sessions.add(this)
    const { registry } = this.#context
    const link = this.#link
    const name = this.#name
    registry.acquire(name, this).then(
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
    this.#keepAlive()
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
    this.#auth.dispose()
    this.#context.sessions.delete(this)
    if (this.#room !== null) this.#context.registry.release(this.#room, this)
    this.#room = null
    this.#queue = null
  }

  deliver(message: Outgoing): void {
    for (const frame of message.frames('y-websocket')) this.#send(frame)
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
        this.#send(encodeYwsSync('sync-step-1', room.stateVector()))
        this.#sendAwarenessStates(room)
      }),
    )
  }

  #handle(room: Room, message: YwsMessage): void {
    switch (message.type) {
      case 'sync-step-1': {
        const stored = room.storedContent(message.stateVector)
        if (stored !== null) return this.#send(encodeYwsSync('sync-step-2', stored))
        const diff = room.diff(message.stateVector)
        if (diff instanceof WeftError) throw diff
        return this.#send(encodeYwsSync('sync-step-2', diff))
      }
      case 'sync-step-2':
      case 'update': {
        const access = this.#auth.access(this.#name)
        const writer = recordWriterOf(this.#auth)
        const denied = writeDenied(access, room, [message.update], writer)
        if (denied !== undefined) throw denied
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

  #send(frame: Uint8Array): void {
    this.#lastSentMs = Date.now()
    this.#link.send(frame)
  }

  /**
   * A stock provider reconnects after 30 s without a message, and the relay never echoes its
   * own presence back to it: a client alone on a document (or writing alone for a long time)
   * would be dropped every 30 s. Its presence renewals (every 15 s) get an empty awareness
   * update in answer when nothing else went to it for 10 s.
   */
  #keepAlive(): void {
    if (Date.now() - this.#lastSentMs < KEEPALIVE_AFTER_MS) return
    this.#send(EMPTY_AWARENESS_FRAME)
  }

  #sendAwarenessStates(room: Room): void {
    const states = room.awarenessStates()
    if (states !== null) this.#send(encodeYwsAwareness(states))
  }
}
