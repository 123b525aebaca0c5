/** WeftSession: the Weft dialect on one socket — hello, many documents, acks and coded errors. */
import type { Context } from '@opentelemetry/api'
import { decodeStateVector } from '@weft/doc'
import {
  checkDocName,
  ChunkedFrame,
  compressFrame,
  COMPRESSION_VERSION,
  decodeMessage,
  expandFrame,
  MESSAGE_SPECS,
  encodeMessage,
  negotiateVersion,
  newTransferId,
  TRACING_VERSION,
  untraceFrame,
  WeftError,
  type OpenMessage,
  type WeftMessage,
} from '@weft/protocol'
import type { Authenticator, Identity } from './auth.js'
import { bindLogger, type LogContext, type Logger } from './logger.js'
import type { RelayMetrics } from './metrics.js'
import { isEmptyStateVector, type Room } from './room.js'
import type { RoomRegistry } from './room-registry.js'
import { SessionAuth, type AuthenticatedSession } from './session-auth.js'
import { ZLIB_CODEC } from './zlib-codec.js'
import type { SocketHandler, SocketLink } from './socket-link.js'
import { recordWriterOf, writeDenied } from './write-rules.js'
import { DocLink, queuedSize, type DocMessage } from './doc-link.js'
import { overDocLimit } from './doc-size-limit.js'
import type { RelayTransfers } from './relay-transfers.js'
import { SessionWire, type ChunkResult } from './session-wire.js'

/** What a session needs from its relay. */
export interface SessionContext {
  readonly registry: RoomRegistry
  readonly logger: Logger
  readonly metrics: RelayMetrics
  /** The trace context the connection's client sent (root when none). */
  readonly traceContext: Context
  readonly serverName: string
  readonly maxMessageBytes: number
  /** The document-size limit: larger edits and transfers are refused with `DOC_TOO_LARGE`. */
  readonly maxDocBytes: number
  /** Send queue (behind a transfer) over which a socket is closed as a slow consumer. */
  readonly maxBufferedBytes: number
  /** Chunked transfers that outlive a socket. */
  readonly transfers: RelayTransfers
  /** Frames from this many bytes go compressed to version 2 clients; `null`: never. */
  readonly compressFromBytes: number | null
  readonly maxDocsPerSocket: number
  /** Bytes of messages a document may queue while it loads. */
  readonly maxQueuedBytes: number
  readonly helloTimeoutMs: number
  readonly auth: Authenticator
  /** Sessions with a verified identity, for revocation. */
  readonly sessions: Set<AuthenticatedSession>
  readonly maxPreAuthMessages: number
  readonly maxPreAuthBytes: number
}

const HELLO_TAG = MESSAGE_SPECS.hello.tag

/** A Yjs update with nothing in it: no structs, no deletions. */
const EMPTY_UPDATE_BYTES = 2

/**
 * The Weft dialect. The first frame must be `hello` with a token the relay's authenticator
 * accepts (all within `helloTimeoutMs`; what arrives while the token is verified waits, within
 * limits); then documents the token covers are opened, synced and edited independently. A
 * problem with one document closes that document only (`error` naming it); a malformed frame, a
 * protocol violation, a refused or expired token closes the socket.
 */
export class WeftSession implements SocketHandler, AuthenticatedSession {
  readonly #link: SocketLink
  #context: SessionContext
  readonly #docs = new Map<string, DocLink>()
  readonly #auth: SessionAuth
  #helloTimer: ReturnType<typeof setTimeout> | null
  /** `hello` arrived; frames wait in `#preAuth` until the token is verified. */
  #helloSeen = false
  #ready = false
  #preAuth: Uint8Array[] = []
  #preAuthBytes = 0
  #helloFrame: Uint8Array = new Uint8Array()
  /** The protocol version negotiated in `hello` (1 until then). */
  #version = 1
  /** Frames in order; from protocol version 3, large ones as chunked transfers. */
  readonly #wire: SessionWire
  correlationId = ''

  constructor(link: SocketLink, context: SessionContext) {
    this.#link = link
    this.#context = context
    this.#auth = new SessionAuth(context.auth, (error) => link.close(error))
    this.#wire = new SessionWire(link, context, () => this.#auth.subject)
    link.setHandler(this)
    this.#helloTimer = setTimeout(() => {
      link.close(
        new WeftError(
          'TIMEOUT',
          `no hello with an accepted token within ${context.helloTimeoutMs} ms`,
        ),
      )
    }, context.helloTimeoutMs)
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

  /** Handles a frame; a compressed one is inflated first, and its inflated size returned. */
  onFrame(received: Uint8Array): number | void {
    if (!this.#ready) return this.#beforeReady(received)
    let frame = received
    let message = decodeMessage(received)
    if (message.type === 'compressed') {
      frame = this.#expand(message, this.#context.maxMessageBytes)
      message = decodeMessage(frame)
    }
    if (message.type === 'chunk' || message.type === 'resume') {
      this.#transferred(this.#wire.take(message))
    } else {
      this.#dispatch(frame, message)
    }
    return frame.length
  }

  #expand(message: WeftMessage & { type: 'compressed' }, maxBytes: number): Uint8Array {
    if (this.#version < COMPRESSION_VERSION) {
      throw new WeftError('PROTOCOL_VIOLATION', 'compressed frames need protocol version 2')
    }
    return expandFrame(message, maxBytes, ZLIB_CODEC)
  }

  /** The edit a `traced` frame carries, with its updates' trace contexts. */
  #untrace(message: WeftMessage & { type: 'traced' }): DocMessage {
    if (this.#version < TRACING_VERSION) {
      throw new WeftError('PROTOCOL_VIOLATION', 'traced frames need protocol version 4')
    }
    const { message: edit, contexts } = untraceFrame(message)
    return { ...edit, traces: contexts }
  }

  /** What a chunk from the client came to: a whole frame to handle, or an edit to refuse. */
  #transferred(result: ChunkResult): void {
    if (result === null) return
    if ('refuse' in result) {
      const { doc, ref, error } = result.refuse
      return this.#refuseEdit(doc, ref, error)
    }
    let frame = result.frame
    let message = decodeMessage(frame)
    if (message.type === 'compressed') {
      frame = this.#expand(message, this.#context.maxDocBytes)
      message = decodeMessage(frame)
    }
    if (message.type === 'chunk' || message.type === 'resume' || message.type === 'compressed') {
      throw new WeftError('BAD_MESSAGE', `a transfer may not carry ${message.type}`)
    }
    this.#dispatch(frame, message)
  }

  #dispatch(frame: Uint8Array, message: WeftMessage): void {
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
      case 'traced':
        return this.#route(this.#untrace(message))
      case 'ping':
        // Straight to the socket: a pong must not wait behind a transfer.
        return this.#wire.sendNow(encodeMessage({ type: 'pong', nonce: message.nonce }))
      case 'pong':
        return
      case 'refresh-token':
        return this.#refresh(message.token)
      default:
        throw new WeftError('PROTOCOL_VIOLATION', `a client may not send ${message.type}`)
    }
  }

  farewell(error: WeftError): Uint8Array | undefined {
    return encodeMessage({ type: 'error', doc: '', code: error.code, reason: error.message })
  }

  onClosed(): void {
    if (this.#helloTimer !== null) clearTimeout(this.#helloTimer)
    this.#auth.dispose()
    this.#context.sessions.delete(this)
    this.#preAuth = []
    for (const link of this.#docs.values()) {
      if (link.room !== null) this.#context.registry.release(link.room, link)
    }
    this.#docs.clear()
  }

  /**
   * Sends a message on the socket (compressed when large and the client takes that; in chunks
   * when larger than a chunk and the client speaks protocol version 3).
   */
  send(message: WeftMessage): void {
    this.sendFrame(
      compressFrame(encodeMessage(message), this.#version, this.compressFromBytes, ZLIB_CODEC),
    )
  }

  /** Frames from this many bytes go compressed to this client; `null`: none does. */
  get compressFromBytes(): number | null {
    return this.#version >= COMPRESSION_VERSION ? this.#context.compressFromBytes : null
  }

  /** Sends an already encoded frame, after those before it (a transfer first). */
  sendFrame(frame: Uint8Array): void {
    this.#wire.send(frame)
  }

  /** Closes one document for this socket with an `error` naming it. */
  closeDoc(link: DocLink, error: WeftError): void {
    if (this.#docs.get(link.name) === link) this.#docs.delete(link.name)
    if (link.room !== null) this.#context.registry.release(link.room, link)
    link.room = null
    this.#context.metrics.refused(error.code, 'document')
    this.send({ type: 'error', doc: link.name, code: error.code, reason: error.message })
  }

  /** Frames before the session is ready: `hello` first, then what waits for the token check. */
  #beforeReady(frame: Uint8Array): void {
    if (this.#helloSeen) {
      this.#preAuthBytes += frame.length
      const { maxPreAuthMessages, maxPreAuthBytes } = this.#context
      if (this.#preAuth.length >= maxPreAuthMessages || this.#preAuthBytes > maxPreAuthBytes) {
        throw new WeftError(
          'RATE_LIMITED',
          `over ${maxPreAuthMessages} messages or ${maxPreAuthBytes} bytes before the token was verified`,
        )
      }
      this.#preAuth.push(frame.slice())
      return
    }
    // Before hello, look at the tag alone: nothing else is decoded for an unauthenticated socket.
    if (frame[0] !== HELLO_TAG) {
      throw new WeftError('PROTOCOL_VIOLATION', 'the first message must be hello')
    }
    const message = decodeMessage(frame)
    if (message.type !== 'hello') {
      throw new WeftError('PROTOCOL_VIOLATION', `expected hello, got ${message.type}`)
    }
    const negotiated = negotiateVersion(message.minVersion, message.maxVersion)
    if (!negotiated.ok) throw negotiated.error
    this.#helloSeen = true
    this.#helloFrame = frame.slice()
    this.correlationId = message.correlationId
    if (message.correlationId !== '') this.#bindLog({ correlationId: message.correlationId })
    this.#auth.login(message.token).then(
      () =>
        this.#link.guard(() => {
          this.#bindLog({ user: this.#auth.subject })
          this.#welcome(negotiated.version)
        }),
      (error: unknown) => this.#link.close(authError(error)),
    )
  }

  /** Every later line about this session, the socket's included, carries `context`. */
  #bindLog(context: LogContext): void {
    this.#context = { ...this.#context, logger: bindLogger(this.#context.logger, context) }
    this.#link.bindLog(context)
  }

  #welcome(version: number): void {
    if (!this.#link.open) return
    if (this.#helloTimer !== null) clearTimeout(this.#helloTimer)
    this.#helloTimer = null
    this.#ready = true
    this.#context.sessions.add(this)
    // The welcome itself goes uncompressed: the client learns the version from it.
    this.send({
      type: 'welcome',
      version,
      connectionId: this.#link.id,
      maxMessageBytes: this.#context.maxMessageBytes,
      server: this.#context.serverName,
    })
    this.#version = version
    this.#wire.start(version)
    const waiting = this.#preAuth
    this.#preAuth = []
    for (const frame of waiting) {
      if (!this.#link.open) return
      this.onFrame(frame)
    }
  }

  /** A fresh token on the open socket; documents it no longer covers are closed. */
  #refresh(token: string): void {
    this.#auth.refresh(token).then(
      () =>
        this.#link.guard(() => {
          for (const link of [...this.#docs.values()]) {
            if (!this.#auth.access(link.name).read) {
              this.closeDoc(
                link,
                new WeftError('FORBIDDEN', 'the refreshed token does not cover this document'),
              )
            }
          }
        }),
      (error: unknown) => this.#link.close(authError(error)),
    )
  }

  #open(message: OpenMessage): void {
    const { doc } = message
    const nameError = checkDocName(doc)
    if (nameError !== undefined) return this.#refuse(doc, nameError)
    if (!this.#auth.access(doc).read) {
      return this.#refuse(doc, new WeftError('FORBIDDEN', 'the token does not cover this document'))
    }
    // A malformed state vector is a malformed frame: it closes the socket like one.
    const stateVector = decodeStateVector(message.stateVector)
    if (!stateVector.ok) throw stateVector.error
    const existing = this.#docs.get(doc)
    if (existing !== undefined) {
      // Opening again is a resync (the client repairs its copy): answer as for a fresh open.
      this.#context.metrics.repairSync(stateVector.stateVector.size === 0)
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
    if (this.#resumeSync(link, room)) return this.#syncRest(link, room)
    const stored = room.storedContent(stateVector)
    if (stored !== null) {
      // A fresh client gets the stored bytes at once; the rest follows once they are applied
      // on the relay, in a later turn, so the first frame is not held back meanwhile.
      this.send({ type: 'sync-step-2', doc: link.name, ref: 0, update: stored })
      setImmediate(() => this.#link.guard(() => this.#syncRest(link, room)))
      return
    }
    if (isEmptyStateVector(stateVector)) {
      // A client with nothing: the frame every such joiner gets, built once per change.
      const { compressFromBytes } = this
      this.#wire.sendSync(room.joinFrame(compressFromBytes), () =>
        room.joinTransfer(compressFromBytes),
      )
      this.#syncRest(link, room)
      return
    }
    const diff = room.diff(stateVector)
    if (diff instanceof WeftError) throw diff
    const message = { type: 'sync-step-2', doc: link.name, ref: 0, update: diff } as const
    const frame = compressFrame(
      encodeMessage(message),
      this.#version,
      this.compressFromBytes,
      ZLIB_CODEC,
    )
    this.#wire.sendSync(frame, () => ({
      chunks: new ChunkedFrame(newTransferId(), frame),
      doc: link.name,
      stateVector: room.stateVector(),
    }))
    this.#syncRest(link, room)
  }

  /**
   * Resumes a sync answer of this document the client holds part of (it said so after
   * reconnecting): the chunks it lacks, then what changed on the relay since that answer.
   */
  #resumeSync(link: DocLink, room: Room): boolean {
    const stateVector = this.#wire.resumeSync(link.name)
    if (stateVector === null) return false
    const since = room.diff(stateVector)
    if (since instanceof WeftError) throw since
    if (since.length > EMPTY_UPDATE_BYTES) {
      this.send({ type: 'update', doc: link.name, ref: 0, update: since })
    }
    return true
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
        const access = this.#auth.access(link.name)
        const denied = writeDenied(access, room, updates, recordWriterOf(this.#auth))
        // Refused whole: not applied, stored or forwarded; the socket and document stay open.
        if (denied !== undefined) return this.#refuseEdit(link.name, message.ref, denied)
        const tooLarge = overDocLimit(room, updates, this.#context.maxDocBytes)
        if (tooLarge !== undefined) return this.#refuseEdit(link.name, message.ref, tooLarge)
        const error = room.applyUpdates(link, updates, message.ref, message.traces)
        if (error === undefined) return
        if (error.code === 'BAD_UPDATE' || error.code === 'FORBIDDEN') {
          return this.#refuseEdit(link.name, message.ref, error)
        }
        return this.closeDoc(link, error)
      }
      case 'awareness': {
        const error = room.applyAwareness(link, message.update)
        if (error === undefined) return
        // Malformed, or presence under another session's client id: the document is closed.
        return this.closeDoc(link, error)
      }
      default:
        throw new WeftError('PROTOCOL_VIOLATION', `a client may not send ${message.type}`)
    }
  }

  /** Refuses one edit by ref: not applied, stored or forwarded; the document stays open. */
  #refuseEdit(doc: string, ref: number, error: WeftError): void {
    this.#context.metrics.refused(error.code, 'update')
    this.#context.logger.info('update refused', { doc, ref, code: error.code })
    this.send({ type: 'rejected', doc, ref, code: error.code, reason: error.message })
  }

  #close(doc: string): void {
    const link = this.#docs.get(doc)
    if (link === undefined) return
    this.#docs.delete(doc)
    if (link.room !== null) this.#context.registry.release(link.room, link)
    link.room = null
  }

  #refuse(doc: string, error: WeftError): void {
    this.#context.metrics.refused(error.code, 'document')
    this.#context.logger.info('document refused', { doc, code: error.code })
    this.send({ type: 'error', doc, code: error.code, reason: error.message })
  }
}

/** An authentication failure as the error that closes the socket. */
const authError = (error: unknown): WeftError =>
  error instanceof WeftError && (error.code === 'UNAUTHORIZED' || error.code === 'REVOKED')
    ? error
    : new WeftError('UNAUTHORIZED', 'the token could not be verified', { cause: error })

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((byte, index) => byte === b[index])
