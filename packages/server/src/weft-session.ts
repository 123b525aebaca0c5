/** WeftSession: the Weft dialect on one socket — hello, many documents, acks and coded errors. */
import { decodeStateVector } from '@weft/doc'
import {
  checkDocName,
  decodeMessage,
  MESSAGE_SPECS,
  encodeMessage,
  negotiateVersion,
  WeftError,
  type OpenMessage,
  type WeftMessage,
} from '@weft/protocol'
import type { Logger } from './logger.js'
import type { Outgoing } from './outgoing.js'
import type { Room, RoomPeer } from './room.js'
import type { RoomRegistry } from './room-registry.js'
import type { SocketHandler, SocketLink } from './socket-link.js'

/** What a session needs from its relay. */
export interface SessionContext {
  readonly registry: RoomRegistry
  readonly logger: Logger
  readonly serverName: string
  readonly maxMessageBytes: number
  readonly maxDocsPerSocket: number
  /** Bytes of messages a document may queue while it loads. */
  readonly maxQueuedBytes: number
  readonly helloTimeoutMs: number
}

type DocMessage = Extract<WeftMessage, { doc: string }>

const HELLO_TAG = MESSAGE_SPECS.hello.tag

/** One document open on a Weft socket; the room reaches the session through it. */
class DocLink implements RoomPeer {
  readonly dialect = 'weft'
  readonly name: string
  readonly #session: WeftSession
  room: Room | null = null
  /** Messages that arrived while the room loaded; `null` once it is open. */
  queue: DocMessage[] | null = []
  queuedBytes = 0

  constructor(name: string, session: WeftSession) {
    this.name = name
    this.#session = session
  }

  get author(): string {
    return this.#session.author
  }

  get correlationId(): string {
    return this.#session.correlationId
  }

  deliver(message: Outgoing): void {
    for (const frame of message.frames('weft')) this.#session.sendFrame(frame)
  }

  saved(ref: number, stateVector: Uint8Array): void {
    this.#session.send({ type: 'saved', doc: this.name, ref, stateVector })
  }

  roomFailed(error: WeftError): void {
    this.room = null
    this.#session.closeDoc(this, error)
  }
}

/**
 * The Weft dialect. The first frame must be `hello` (within `helloTimeoutMs`); then documents are
 * opened, synced and edited independently. A problem with one document closes that document
 * only (`error` naming it); a malformed frame or a protocol violation closes the socket.
 */
export class WeftSession implements SocketHandler {
  readonly #link: SocketLink
  readonly #context: SessionContext
  readonly #docs = new Map<string, DocLink>()
  #helloTimer: ReturnType<typeof setTimeout> | null
  #ready = false
  #helloFrame: Uint8Array = new Uint8Array()
  author = 'anonymous'
  correlationId = ''

  constructor(link: SocketLink, context: SessionContext) {
    this.#link = link
    this.#context = context
    link.setHandler(this)
    this.#helloTimer = setTimeout(() => {
      link.close(new WeftError('TIMEOUT', `no hello within ${context.helloTimeoutMs} ms`))
    }, context.helloTimeoutMs)
  }

  onFrame(frame: Uint8Array): void {
    // Before hello, look at the tag alone: nothing else is decoded for an unauthenticated socket.
    if (!this.#ready && frame[0] !== HELLO_TAG) {
      throw new WeftError('PROTOCOL_VIOLATION', 'the first message must be hello')
    }
    const message = decodeMessage(frame)
    if (!this.#ready) {
      if (message.type !== 'hello') {
        throw new WeftError('PROTOCOL_VIOLATION', `expected hello, got ${message.type}`)
      }
      this.#helloFrame = frame.slice()
      this.#hello(message)
      return
    }
    switch (message.type) {
      case 'hello':
        // A repeated hello changes nothing (the handshake is idempotent); a different one is a
        // client bug.
        if (sameBytes(frame, this.#helloFrame)) return
        throw new WeftError('PROTOCOL_VIOLATION', 'a second, different hello')
      case 'open':
        return this.#open(message)
      case 'close':
        return this.#close(message.doc)
      case 'sync-step-1':
      case 'sync-step-2':
      case 'update':
      case 'updates':
      case 'awareness':
        return this.#route(message)
      case 'ping':
        return this.send({ type: 'pong', nonce: message.nonce })
      case 'pong':
        return
      case 'refresh-token':
        // Tokens are not verified by this relay yet; accept the new one as the old was.
        return
      default:
        throw new WeftError('PROTOCOL_VIOLATION', `a client may not send ${message.type}`)
    }
  }

  farewell(error: WeftError): Uint8Array | undefined {
    return encodeMessage({ type: 'error', doc: '', code: error.code, reason: error.message })
  }

  onClosed(): void {
    if (this.#helloTimer !== null) clearTimeout(this.#helloTimer)
    for (const link of this.#docs.values()) {
      if (link.room !== null) this.#context.registry.release(link.room, link)
    }
    this.#docs.clear()
  }

  /** Sends a message on the socket. */
  send(message: WeftMessage): void {
    this.#link.send(encodeMessage(message))
  }

  /** Sends an already encoded frame. */
  sendFrame(frame: Uint8Array): void {
    this.#link.send(frame)
  }

  /** Closes one document for this socket with an `error` naming it. */
  closeDoc(link: DocLink, error: WeftError): void {
    if (this.#docs.get(link.name) === link) this.#docs.delete(link.name)
    if (link.room !== null) this.#context.registry.release(link.room, link)
    link.room = null
    this.send({ type: 'error', doc: link.name, code: error.code, reason: error.message })
  }

  #hello(message: Extract<WeftMessage, { type: 'hello' }>): void {
    const negotiated = negotiateVersion(message.minVersion, message.maxVersion)
    if (!negotiated.ok) throw negotiated.error
    if (this.#helloTimer !== null) clearTimeout(this.#helloTimer)
    this.#helloTimer = null
    this.#ready = true
    this.correlationId = message.correlationId
    this.send({
      type: 'welcome',
      version: negotiated.version,
      connectionId: this.#link.id,
      maxMessageBytes: this.#context.maxMessageBytes,
      server: this.#context.serverName,
    })
  }

  #open(message: OpenMessage): void {
    const { doc } = message
    const nameError = checkDocName(doc)
    if (nameError !== undefined) return this.#refuse(doc, nameError)
    // A malformed state vector is a malformed frame: it closes the socket like one.
    const stateVector = decodeStateVector(message.stateVector)
    if (!stateVector.ok) throw stateVector.error
    const existing = this.#docs.get(doc)
    if (existing !== undefined) {
      // Opening again is a resync: answer as for a fresh open.
      if (existing.queue !== null) existing.queue.push(message)
      else if (existing.room !== null) this.#sync(existing, existing.room, message.stateVector)
      return
    }
    if (this.#docs.size >= this.#context.maxDocsPerSocket) {
      return this.#refuse(
        doc,
        new WeftError(
          'TOO_MANY_DOCS',
          `at most ${this.#context.maxDocsPerSocket} documents per socket`,
        ),
      )
    }
    const link = new DocLink(doc, this)
    this.#docs.set(doc, link)
    this.#context.registry.acquire(doc, link).then(
      (room) => this.#link.guard(() => this.#loaded(link, room, message.stateVector)),
      (error: unknown) => {
        if (this.#docs.get(doc) !== link) return
        this.#docs.delete(doc)
        const coded =
          error instanceof WeftError
            ? error
            : new WeftError('UNAVAILABLE', 'load failed', { cause: error })
        if (this.#link.open)
          this.send({ type: 'error', doc, code: coded.code, reason: coded.message })
      },
    )
  }

  #loaded(link: DocLink, room: Room, stateVector: Uint8Array): void {
    if (!this.#link.open || this.#docs.get(link.name) !== link) {
      this.#context.registry.release(room, link)
      return
    }
    link.room = room
    this.#sync(link, room, stateVector)
    const queued = link.queue ?? []
    link.queue = null
    for (const message of queued) {
      if (link.room === null) break
      this.#handle(link, link.room, message)
    }
  }

  #sync(link: DocLink, room: Room, stateVector: Uint8Array): void {
    const stored = room.storedContent(stateVector)
    if (stored !== null) {
      // A fresh client gets the stored bytes at once; the rest follows once they are applied
      // on the relay, in a later turn, so the first frame is not held back meanwhile.
      this.send({ type: 'sync-step-2', doc: link.name, ref: 0, update: stored })
      setImmediate(() => this.#link.guard(() => this.#syncRest(link, room)))
      return
    }
    const diff = room.diff(stateVector)
    if (diff instanceof WeftError) throw diff
    this.send({ type: 'sync-step-2', doc: link.name, ref: 0, update: diff })
    this.#syncRest(link, room)
  }

  /** The relay's state vector, presence and durable state, after sync step 2. */
  #syncRest(link: DocLink, room: Room): void {
    if (link.room !== room || !this.#link.open) return
    this.send({ type: 'sync-step-1', doc: link.name, stateVector: room.stateVector() })
    const states = room.awarenessStates()
    if (states !== null) this.send({ type: 'awareness', doc: link.name, update: states })
    this.send({ type: 'saved', doc: link.name, ref: 0, stateVector: room.durableStateVector })
  }

  #route(message: DocMessage): void {
    const link = this.#docs.get(message.doc)
    if (link === undefined) {
      return this.#refuse(
        message.doc,
        new WeftError('DOC_NOT_OPEN', `"${message.doc}" is not open on this socket`),
      )
    }
    if (link.queue !== null) {
      link.queuedBytes += queuedSize(message)
      if (link.queuedBytes > this.#context.maxQueuedBytes) {
        throw new WeftError(
          'RATE_LIMITED',
          `over ${this.#context.maxQueuedBytes} bytes queued while "${link.name}" loads`,
        )
      }
      link.queue.push(message)
      return
    }
    if (link.room !== null) this.#handle(link, link.room, message)
  }

  #handle(link: DocLink, room: Room, message: DocMessage): void {
    switch (message.type) {
      case 'open':
        return this.#sync(link, room, message.stateVector)
      case 'sync-step-1': {
        const diff = room.diff(message.stateVector)
        if (diff instanceof WeftError) throw diff
        return this.send({ type: 'sync-step-2', doc: link.name, ref: 0, update: diff })
      }
      case 'sync-step-2':
      case 'update':
      case 'updates': {
        const updates = message.type === 'updates' ? message.updates : [message.update]
        const error = room.applyUpdates(link, updates, message.ref)
        if (error === undefined) return
        if (error.code === 'BAD_UPDATE') {
          return this.send({
            type: 'rejected',
            doc: link.name,
            ref: message.ref,
            code: error.code,
            reason: error.message,
          })
        }
        return this.closeDoc(link, error)
      }
      case 'awareness': {
        const error = room.applyAwareness(link, message.update)
        if (error !== undefined) this.closeDoc(link, error)
        return
      }
      default:
        throw new WeftError('PROTOCOL_VIOLATION', `a client may not send ${message.type}`)
    }
  }

  #close(doc: string): void {
    const link = this.#docs.get(doc)
    if (link === undefined) return
    this.#docs.delete(doc)
    if (link.room !== null) this.#context.registry.release(link.room, link)
    link.room = null
  }

  #refuse(doc: string, error: WeftError): void {
    this.send({ type: 'error', doc, code: error.code, reason: error.message })
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((byte, index) => byte === b[index])

/** Bytes a queued message holds, roughly; for the cap on what may wait while a document loads. */
const queuedSize = (message: DocMessage): number => {
  if (message.type === 'updates')
    return message.updates.reduce((sum, update) => sum + update.length, 64)
  return 'update' in message ? message.update.length + 64 : 64
}
