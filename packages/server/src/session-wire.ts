/**
 * SessionWire: how one Weft session's frames meet its socket from protocol version 3 — in order,
 * large ones as chunked transfers, sync answers resumable, the client's chunks joined.
 */
import {
  ChunkedFrame,
  CHUNK_BYTES,
  CHUNKING_VERSION,
  decodeDocHead,
  encodeMessage,
  newTransferId,
  TransferSender,
  WeftError,
  type ChunkMessage,
  type ResumeMessage,
} from '@weft/protocol'
import type { RelayMetrics } from './metrics.js'
import type { RelayTransfers, SyncTransfer } from './relay-transfers.js'
import type { SocketLink } from './socket-link.js'

/** Sync answers a client may ask to resume on one socket. */
const MAX_RESUMES_ASKED = 16

/** What the wire needs from its session and relay. */
export interface SessionWireContext {
  readonly transfers: RelayTransfers
  readonly metrics: RelayMetrics
  /** Send queue (behind a transfer) over which the socket is closed as a slow consumer. */
  readonly maxBufferedBytes: number
  /** The document-size limit, which a transfer from the client may not pass. */
  readonly maxDocBytes: number
}

/** What a chunk from the client came to. */
export type ChunkResult =
  /** Nothing yet: more chunks to come. */
  | null
  /** The whole frame (perhaps a `compressed` one), to handle as if it had arrived so. */
  | { readonly frame: Uint8Array }
  /** A transfer over the document-size limit: the edit its first chunk names, to refuse. */
  | { readonly refuse: { doc: string; ref: number; error: WeftError } }

/**
 * Before protocol version 3 (or before `welcome`) frames go straight to the socket. From 3, a
 * frame over {@link CHUNK_BYTES} goes as a transfer paced by the client's `resume` answers and
 * frames sent after it wait (counted against `maxBufferedBytes`); the client's chunks are joined
 * in the relay's receiver under its token subject, so that an upload survives a reconnect.
 */
export class SessionWire {
  readonly #link: SocketLink
  readonly #context: SessionWireContext
  readonly #subject: () => string
  #out: TransferSender | null = null
  /** Sync answers the client holds part of (from its `resume` after reconnecting), by id. */
  readonly #resumeAsked = new Map<string, number>()

  constructor(link: SocketLink, context: SessionWireContext, subject: () => string) {
    this.#link = link
    this.#context = context
    this.#subject = subject
  }

  /** True once the session speaks protocol version 3 or later. */
  get chunked(): boolean {
    return this.#out !== null
  }

  /**
   * The session was welcomed with `version`. From 3 the client is told what the relay holds of
   * its unfinished uploads, so that its resend goes on from there.
   */
  start(version: number): void {
    if (version < CHUNKING_VERSION) return
    this.#out = new TransferSender({
      send: (frame) => this.#link.send(frame),
      chunkBytes: CHUNK_BYTES,
      cut: (frame) => new ChunkedFrame(newTransferId(), frame),
    })
    for (const message of this.#context.transfers.incoming.pending(this.#key(''))) {
      this.#link.send(encodeMessage(message))
    }
  }

  /** Sends a frame after those before it (a transfer first). */
  send(frame: Uint8Array): void {
    const out = this.#out
    if (out === null) return this.#link.send(frame)
    out.send(frame)
    this.#checkQueue(out)
  }

  /** Sends straight to the socket, ahead of a transfer (pongs, answers about transfers). */
  sendNow(frame: Uint8Array): void {
    this.#link.send(frame)
  }

  /** Sends a sync answer: in chunks, kept for resuming, when large and the client takes them. */
  sendSync(frame: Uint8Array, transfer: () => SyncTransfer): void {
    const out = this.#out
    if (out === null || frame.length <= CHUNK_BYTES) return this.send(frame)
    const sync = transfer()
    this.#context.transfers.keep(sync)
    out.sendChunks(sync.chunks)
    this.#checkQueue(out)
  }

  /**
   * Resumes a sync answer of `doc` the client holds part of (it said so after reconnecting): the
   * chunks it lacks go out, and the answer's state vector is returned, for the caller to send
   * what changed since. `null` when there is none to resume.
   */
  resumeSync(doc: string): Uint8Array | null {
    const out = this.#out
    if (out === null) return null
    for (const [id, received] of this.#resumeAsked) {
      const sync = this.#context.transfers.sync(id)
      if (sync?.doc !== doc) continue
      this.#resumeAsked.delete(id)
      this.#context.transfers.keep(sync)
      out.sendChunks(sync.chunks, received)
      return sync.stateVector
    }
    return null
  }

  /** A `chunk` or `resume` from the client; `PROTOCOL_VIOLATION` before version 3. */
  take(message: ChunkMessage | ResumeMessage): ChunkResult {
    if (this.#out === null) {
      throw new WeftError('PROTOCOL_VIOLATION', `${message.type} needs protocol version 3`)
    }
    if (message.type === 'resume') {
      this.#resumed(message)
      return null
    }
    const outcome = this.#context.transfers.incoming.receive(this.#key(message.transfer), message)
    // Straight to the socket: an answer must not wait behind a transfer of ours.
    this.sendNow(encodeMessage(outcome.ack))
    if (outcome.kind === 'ack') return null
    if (outcome.kind === 'frame') return { frame: outcome.frame }
    const head = decodeDocHead(outcome.payload)
    const reason = `a message of ${message.size} bytes is over the document-size limit of ${this.#context.maxDocBytes}`
    if (head === null) throw new WeftError('MESSAGE_TOO_BIG', reason)
    return {
      refuse: { doc: head.doc, ref: head.ref, error: new WeftError('DOC_TOO_LARGE', reason) },
    }
  }

  /**
   * The client's answer about a transfer of ours, or (after it reconnected) a sync answer it
   * holds part of, resumed when it opens that document again.
   */
  #resumed(message: ResumeMessage): void {
    if (this.#out?.resumed(message) === true) return
    if (this.#resumeAsked.size >= MAX_RESUMES_ASKED) return
    this.#resumeAsked.set(message.transfer, message.received)
  }

  /** The key of this client's transfer `id` in the relay's receiver: per token subject. */
  #key(id: string): string {
    return `${this.#subject()}\n${id}`
  }

  /** Frames waiting behind a transfer count as send buffer: too many make a slow consumer. */
  #checkQueue(out: TransferSender): void {
    if (out.queuedBytes <= this.#context.maxBufferedBytes) return
    this.#context.metrics.slowConsumer()
    this.#link.close(
      new WeftError(
        'SLOW_CONSUMER',
        `over ${this.#context.maxBufferedBytes} bytes waiting behind a transfer`,
      ),
    )
  }
}
