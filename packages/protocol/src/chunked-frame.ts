/**
 * ChunkedFrame: a frame too large to travel whole, cut into numbered `chunk` frames (protocol
 * version 3), each encoded on first use.
 */
import { encodeMessage } from './codec.js'
import type { ChunkMessage } from './messages.js'
import { WeftError } from './weft-error.js'

/**
 * Payload bytes of one chunk: with its header a chunk frame stays under 256,000 bytes, so no
 * frame of a transfer is over 256 KB however the size is counted.
 */
export const CHUNK_BYTES = 250_000

/** Chunks a sender puts on the wire ahead of the receiver's `resume` answers. */
export const TRANSFER_WINDOW = 4

/** Longest transfer id, in characters (ids are short random strings). */
export const MAX_TRANSFER_ID_LENGTH = 64

/**
 * A fresh transfer id: 16 random bytes, base64url (22 characters). Without WebCrypto (Hermes)
 * they come from `Math.random`: an id only has to differ from the sender's other transfers (the
 * relay keeps each client's transfers apart by its token's subject).
 */
export const newTransferId = (): string => {
  const bytes = new Uint8Array(16)
  const crypto = globalThis.crypto as Crypto | undefined
  if (typeof crypto?.getRandomValues === 'function') crypto.getRandomValues(bytes)
  else for (let index = 0; index < bytes.length; index++) bytes[index] = Math.random() * 256
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/**
 * One frame as `count` chunks of `transfer`. A chunk's frame is built when first asked for and,
 * with `cache`, kept: a frame every joiner of a document gets is cut once for all of them.
 * `wrap` turns a chunk's frame into what goes on the wire (a client compresses each chunk).
 */
export class ChunkedFrame {
  readonly transfer: string
  readonly frame: Uint8Array
  readonly count: number
  readonly #chunkBytes: number
  readonly #wrap: (frame: Uint8Array) => Uint8Array
  readonly #cache: Array<Uint8Array | undefined> | null

  constructor(
    transfer: string,
    frame: Uint8Array,
    options: {
      chunkBytes?: number
      cache?: boolean
      wrap?: (frame: Uint8Array) => Uint8Array
    } = {},
  ) {
    const chunkBytes = options.chunkBytes ?? CHUNK_BYTES
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > CHUNK_BYTES) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `chunkBytes must be an integer from 1 to ${CHUNK_BYTES}, got ${String(chunkBytes)}`,
      )
    }
    if (transfer.length === 0 || transfer.length > MAX_TRANSFER_ID_LENGTH) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `a transfer id has 1 to ${MAX_TRANSFER_ID_LENGTH} characters`,
      )
    }
    this.transfer = transfer
    this.frame = frame
    this.#chunkBytes = chunkBytes
    this.count = Math.max(1, Math.ceil(frame.length / chunkBytes))
    this.#wrap = options.wrap ?? ((chunk) => chunk)
    this.#cache = options.cache === true ? new Array(this.count) : null
  }

  /** Bytes of the whole frame. */
  get size(): number {
    return this.frame.length
  }

  /** The wire frame of chunk `index`. */
  chunk(index: number): Uint8Array {
    const cached = this.#cache?.[index]
    if (cached !== undefined) return cached
    const start = index * this.#chunkBytes
    const message: ChunkMessage = {
      type: 'chunk',
      transfer: this.transfer,
      index,
      count: this.count,
      size: this.frame.length,
      payload: this.frame.subarray(start, start + this.#chunkBytes),
    }
    const wire = this.#wrap(encodeMessage(message))
    if (this.#cache !== null) this.#cache[index] = wire
    return wire
  }
}
