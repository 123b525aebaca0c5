/**
 * TransferReceiver: joins the chunks of incoming transfers into frames, answers each with
 * `resume`, and keeps what it holds of an unfinished transfer for the next connection.
 */
import type { ChunkMessage, ResumeMessage } from './messages.js'
import { MAX_TRANSFER_ID_LENGTH } from './chunked-frame.js'
import { WeftError } from './weft-error.js'

/** What the receiver holds of one transfer. */
interface Partial {
  readonly count: number
  readonly size: number
  readonly pieces: Uint8Array[]
  bytes: number
  /** When its last chunk arrived (ms since the epoch). */
  fedAtMs: number
  /** A chunk of it arrived since {@link TransferReceiver.pending} last listed it. */
  touched: boolean
}

/** What one chunk did. */
export type ChunkOutcome =
  /** Kept (or already held, or out of order); `ack` tells the sender where to go on. */
  | { readonly kind: 'ack'; readonly ack: ResumeMessage }
  /** The last chunk: `frame` is the whole frame. */
  | { readonly kind: 'frame'; readonly frame: Uint8Array; readonly ack: ResumeMessage }
  /**
   * The first chunk of a transfer over `maxBytes`: nothing is kept, and `ack` (all received)
   * stops the sender. `payload` is that chunk's, to read the frame's head (which document).
   */
  | { readonly kind: 'too-large'; readonly payload: Uint8Array; readonly ack: ResumeMessage }

/** Limits of a {@link TransferReceiver}. */
export interface TransferReceiverOptions {
  /** Largest frame a transfer may make. */
  readonly maxBytes: number
  /**
   * Bytes set aside over all unfinished transfers (each counts its whole announced size); the
   * least recently fed are dropped beyond.
   */
  readonly maxHeldBytes: number
  /** An unfinished transfer no chunk arrived for this long is dropped. Default 10 minutes. */
  readonly maxIdleMs?: number
}

/** Most refused transfer ids remembered (their later chunks are answered "all received"). */
const REFUSED_IDS = 256

/**
 * Receives transfers by id (the caller may prefix ids, e.g. with who sent them). A transfer's
 * chunks are kept only in order: a chunk ahead of what is held, or of a transfer it has never
 * seen, is answered with what is held (0 for an unknown one), and the sender goes back there.
 * Every malformed chunk throws `BAD_MESSAGE`.
 */
export class TransferReceiver {
  readonly #options: TransferReceiverOptions
  /** Unfinished transfers, least recently fed first. */
  readonly #partials = new Map<string, Partial>()
  readonly #refused = new Set<string>()
  #heldBytes = 0

  constructor(options: TransferReceiverOptions) {
    this.#options = options
  }

  /** Bytes set aside for unfinished transfers (each counts its whole announced size). */
  get heldBytes(): number {
    return this.#heldBytes
  }

  /** Takes one chunk of the transfer `key` names (its id, perhaps prefixed), at `nowMs`. */
  receive(key: string, chunk: ChunkMessage, nowMs = Date.now()): ChunkOutcome {
    checkChunk(chunk)
    const ack = (received: number): ResumeMessage => ({
      type: 'resume',
      transfer: chunk.transfer,
      received,
    })
    if (this.#refused.has(key)) return { kind: 'ack', ack: ack(chunk.count) }
    let partial = this.#partials.get(key)
    if (partial === undefined) {
      if (chunk.index !== 0) return { kind: 'ack', ack: ack(0) }
      if (chunk.size > this.#options.maxBytes) {
        this.#refuse(key)
        return { kind: 'too-large', payload: chunk.payload, ack: ack(chunk.count) }
      }
      partial = {
        count: chunk.count,
        size: chunk.size,
        pieces: [],
        bytes: 0,
        fedAtMs: nowMs,
        touched: true,
      }
      this.#makeRoom(chunk.size, nowMs)
      this.#heldBytes += chunk.size
    } else if (partial.count !== chunk.count || partial.size !== chunk.size) {
      throw new WeftError('BAD_MESSAGE', `chunk ${chunk.index} of a transfer changed its size`)
    }
    // Least recently fed first: re-inserted at the end.
    this.#partials.delete(key)
    this.#partials.set(key, partial)
    partial.touched = true
    partial.fedAtMs = nowMs
    const held = partial.pieces.length
    if (chunk.index !== held) return { kind: 'ack', ack: ack(held) }
    if (partial.bytes + chunk.payload.length > partial.size) {
      throw new WeftError('BAD_MESSAGE', `a transfer's chunks are over its ${partial.size} bytes`)
    }
    partial.pieces.push(chunk.payload)
    partial.bytes += chunk.payload.length
    if (partial.pieces.length < partial.count) return { kind: 'ack', ack: ack(held + 1) }
    this.#forget(key, partial)
    if (partial.bytes !== partial.size) {
      throw new WeftError(
        'BAD_MESSAGE',
        `a transfer announced ${partial.size} bytes and its chunks hold ${partial.bytes}`,
      )
    }
    return { kind: 'frame', frame: join(partial.pieces, partial.size), ack: ack(partial.count) }
  }

  /**
   * `resume` for every unfinished transfer whose key starts with `prefix`, to send after a
   * reconnect; they count as untouched until a chunk of theirs arrives.
   */
  pending(prefix = ''): ResumeMessage[] {
    const messages: ResumeMessage[] = []
    for (const [key, partial] of this.#partials) {
      if (!key.startsWith(prefix)) continue
      partial.touched = false
      messages.push({
        type: 'resume',
        transfer: key.slice(prefix.length),
        received: partial.pieces.length,
      })
    }
    return messages
  }

  /** Drops the unfinished transfers no chunk arrived for since {@link pending} listed them. */
  dropUntouched(prefix = ''): void {
    for (const [key, partial] of [...this.#partials]) {
      if (key.startsWith(prefix) && !partial.touched) this.#forget(key, partial)
    }
  }

  #refuse(key: string): void {
    this.#refused.add(key)
    if (this.#refused.size > REFUSED_IDS) {
      for (const oldest of this.#refused) {
        this.#refused.delete(oldest)
        break
      }
    }
  }

  /** Drops idle transfers, then the least recently fed until `bytes` more fit. */
  #makeRoom(bytes: number, nowMs: number): void {
    const maxIdleMs = this.#options.maxIdleMs ?? 10 * 60_000
    for (const [key, partial] of this.#partials) {
      const idle = nowMs - partial.fedAtMs > maxIdleMs
      if (!idle && this.#heldBytes + bytes <= this.#options.maxHeldBytes) return
      this.#forget(key, partial)
    }
  }

  #forget(key: string, partial: Partial): void {
    this.#partials.delete(key)
    this.#heldBytes -= partial.size
  }
}

const checkChunk = (chunk: ChunkMessage): void => {
  const { transfer, index, count, size, payload } = chunk
  if (transfer.length === 0 || transfer.length > MAX_TRANSFER_ID_LENGTH) {
    throw new WeftError(
      'BAD_MESSAGE',
      `a transfer id has 1 to ${MAX_TRANSFER_ID_LENGTH} characters`,
    )
  }
  // Every chunk carries at least one byte, so a transfer has at most `size` chunks.
  if (count < 1 || count > size || index >= count || payload.length === 0) {
    throw new WeftError(
      'BAD_MESSAGE',
      `chunk ${index} of ${count} (${payload.length} of ${size} bytes) is not a valid chunk`,
    )
  }
}

/** The pieces, in order, as one frame of `size` bytes. */
const join = (pieces: readonly Uint8Array[], size: number): Uint8Array => {
  if (pieces.length === 1) return pieces[0] as Uint8Array
  const frame = new Uint8Array(size)
  let offset = 0
  for (const piece of pieces) {
    frame.set(piece, offset)
    offset += piece.length
  }
  return frame
}
