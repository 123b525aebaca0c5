/**
 * ClientWire: how the client's frames meet the socket — compressed when large, chunked and
 * resumable from protocol version 3, and incoming chunks joined back into messages.
 */
import {
  ChunkedFrame,
  CHUNK_BYTES,
  CHUNKING_VERSION,
  compressFrame,
  COMPRESSION_VERSION,
  decodeMessage,
  encodeMessage,
  expandFrame,
  newTransferId,
  TransferReceiver,
  TransferSender,
  TRACING_VERSION,
  WeftError,
  type WeftMessage,
} from '@weft/protocol'

/** Largest frame a `compressed` frame or a transfer from the relay may make. */
const MAX_INCOMING_BYTES = 1 << 30

/** Smallest chunk, whatever the relay's frame limit (a chunk's header takes a few dozen bytes). */
const MIN_CHUNK_BYTES = 256

/** Bytes of unfinished incoming transfers kept for resuming (the oldest are dropped beyond). */
const MAX_HELD_BYTES = 256 * 1024 * 1024

/**
 * One client's wire, across its sockets. A frame over {@link CHUNK_BYTES} goes as a transfer
 * (each chunk compressed on its own, so the relay can read the first one's head) and later
 * frames wait for it; what the relay sends in chunks is joined before it is handled. Unfinished
 * transfers outlive the socket: after a reconnect the client asks the relay to resume what it
 * was receiving, and sending the same bytes again resumes what it was sending.
 */
export class ClientWire {
  readonly #compressFromBytes: number | null
  readonly #receiver = new TransferReceiver({
    maxBytes: MAX_INCOMING_BYTES,
    maxHeldBytes: MAX_HELD_BYTES,
  })
  #socketSend: ((frame: Uint8Array) => void) | null = null
  #version = 1
  /** Chunk size on this socket: at most half the relay's frame limit. */
  #chunkBytes = CHUNK_BYTES
  readonly #sender: TransferSender

  constructor(compressFromBytes: number | null) {
    this.#compressFromBytes = compressFromBytes
    this.#sender = new TransferSender({
      send: (frame) => this.#socketSend?.(frame),
      chunkBytes: () => this.#chunkBytes,
      cut: (frame) =>
        new ChunkedFrame(newTransferId(), frame, {
          chunkBytes: this.#chunkBytes,
          wrap: (chunk) => compressFrame(chunk, this.#version, this.#compressFromBytes),
        }),
    })
  }

  /** Edits may travel with their trace contexts (`traced`) on the current socket. */
  get traced(): boolean {
    return this.#socketSend !== null && this.#version >= TRACING_VERSION
  }

  /** Messages of any size travel (in chunks) on the current socket. */
  get chunked(): boolean {
    return this.#socketSend !== null && this.#version >= CHUNKING_VERSION
  }

  /**
   * A socket is ready with protocol `version`. Returns the `resume` messages to send before
   * anything else: the transfers the relay was sending when the last socket went away.
   */
  ready(send: (frame: Uint8Array) => void, version: number, maxMessageBytes: number): Uint8Array[] {
    this.#socketSend = send
    this.#version = version
    this.#chunkBytes = Math.max(
      MIN_CHUNK_BYTES,
      Math.min(CHUNK_BYTES, Math.floor(maxMessageBytes / 2)),
    )
    if (version < CHUNKING_VERSION) return []
    return this.#receiver.pending().map((message) => encodeMessage(message))
  }

  /** The socket went away: frames waiting are dropped, unfinished transfers kept. */
  down(): void {
    this.#socketSend = null
    this.#sender.end()
    // Those the relay did not continue on that socket are gone from it too.
    this.#receiver.dropUntouched()
  }

  /** Sends a message on the ready socket. */
  send(message: WeftMessage): void {
    const frame = encodeMessage(message)
    // A transfer compresses chunk by chunk; a smaller frame is compressed whole.
    if (this.#version >= CHUNKING_VERSION && frame.length > this.#chunkBytes) {
      return this.#sender.send(frame)
    }
    const wire = compressFrame(frame, this.#version, this.#compressFromBytes)
    if (this.#version >= CHUNKING_VERSION) return this.#sender.send(wire)
    this.#socketSend?.(wire)
  }

  /**
   * Decodes a frame from the relay. Returns the message to handle, or `null` when the frame was
   * part of a transfer (a chunk that is not the last, or the relay's answer about ours).
   */
  receive(bytes: Uint8Array): WeftMessage | null {
    const message = this.#expand(decodeMessage(bytes))
    if (this.#version < CHUNKING_VERSION) return message
    if (message.type === 'resume') {
      this.#sender.resumed(message)
      return null
    }
    if (message.type !== 'chunk') return message
    const outcome = this.#receiver.receive(message.transfer, message)
    this.#socketSend?.(encodeMessage(outcome.ack))
    if (outcome.kind !== 'frame') return null
    const whole = this.#expand(decodeMessage(outcome.frame))
    if (whole.type === 'chunk' || whole.type === 'resume') {
      throw new WeftError('BAD_MESSAGE', `a transfer may not carry ${whole.type}`)
    }
    return whole
  }

  #expand(message: WeftMessage): WeftMessage {
    if (message.type !== 'compressed' || this.#version < COMPRESSION_VERSION) return message
    return decodeMessage(expandFrame(message, MAX_INCOMING_BYTES))
  }
}
