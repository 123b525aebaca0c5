/**
 * TransferSender: one side's outgoing frames in order, large ones as chunked transfers paced by
 * the receiver's `resume` answers and resumable on the next connection.
 */
import { ChunkedFrame, TRANSFER_WINDOW } from './chunked-frame.js'
import type { ResumeMessage } from './messages.js'

/** A transfer on its way: the frame, the next chunk to send, and what the receiver holds. */
interface Sending {
  readonly chunks: ChunkedFrame
  next: number
  acked: number
}

type Item = { readonly frame: Uint8Array } | Sending

/** What a {@link TransferSender} needs. */
export interface TransferSenderOptions {
  /** Puts one frame on the socket. */
  readonly send: (frame: Uint8Array) => void
  /** A frame larger than this goes as a transfer (asked for each frame). */
  readonly chunkBytes: number | (() => number)
  /** Cuts a frame into chunks under a fresh id. */
  readonly cut: (frame: Uint8Array) => ChunkedFrame
  /** Chunks in flight ahead of the receiver's answers. Default {@link TRANSFER_WINDOW}. */
  readonly window?: number
  /** Unfinished transfers kept for the next connection, at most. Default 4. */
  readonly keep?: number
}

/**
 * Frames leave in the order they are sent. A frame over `chunkBytes` becomes a transfer: its
 * chunks go out a window at a time, each `resume` from the receiver lets more go, and frames
 * sent after it wait until it is complete (the receiver handles it only once whole, so an edit
 * sent later must not overtake it). Transfers still unfinished when the connection ends are
 * kept: sending the same bytes again on the next connection continues from the last chunk the
 * receiver reported, under the same id.
 */
export class TransferSender {
  readonly #options: TransferSenderOptions
  readonly #window: number
  #queue: Item[] = []
  #head = 0
  #queuedBytes = 0
  /** Unfinished transfers of earlier connections, newest last. */
  #kept: Sending[] = []

  constructor(options: TransferSenderOptions) {
    this.#options = options
    this.#window = options.window ?? TRANSFER_WINDOW
  }

  /** Bytes waiting behind a transfer (not yet handed to the socket). */
  get queuedBytes(): number {
    return this.#queuedBytes
  }

  /** True while a transfer is on its way. */
  get busy(): boolean {
    return this.#head < this.#queue.length
  }

  /** Sends `frame`, whole or as a transfer, after everything sent before it. */
  send(frame: Uint8Array): void {
    const { chunkBytes } = this.#options
    const limit = typeof chunkBytes === 'number' ? chunkBytes : chunkBytes()
    if (frame.length > limit) return this.#enqueue(this.#transferOf(frame))
    if (!this.busy) return this.#options.send(frame)
    this.#queue.push({ frame })
    this.#queuedBytes += frame.length
  }

  /** Sends an already cut frame (shared by several receivers), from chunk `from`. */
  sendChunks(chunks: ChunkedFrame, from = 0): void {
    const start = Math.min(Math.max(0, from), chunks.count)
    this.#enqueue({ chunks, next: start, acked: start })
  }

  /**
   * The receiver's answer about `transfer`; returns false when no transfer of this sender has
   * that id (then it is a request about a transfer the other side receives).
   */
  resumed(message: ResumeMessage): boolean {
    const kept = this.#kept.find((each) => each.chunks.transfer === message.transfer)
    if (kept !== undefined) {
      // Said after a reconnect, before the same bytes are sent again: they go on from there.
      kept.acked = Math.min(message.received, kept.chunks.count)
      return true
    }
    const item = this.#queue[this.#head]
    if (item === undefined || !('chunks' in item) || item.chunks.transfer !== message.transfer) {
      return this.#queue.some(
        (other) =>
          other !== undefined && 'chunks' in other && other.chunks.transfer === message.transfer,
      )
    }
    const received = Math.min(message.received, item.chunks.count)
    if (received < item.acked) {
      // The receiver lost what it had (a restart): start again from what it holds.
      item.next = item.acked = received
    } else {
      item.acked = received
      item.next = Math.max(item.next, received)
    }
    this.#pump()
    return true
  }

  /** The connection ended: frames waiting are dropped, unfinished transfers kept for resuming. */
  end(): void {
    for (let index = this.#head; index < this.#queue.length; index++) {
      const item = this.#queue[index] as Item
      if ('chunks' in item) this.#keep(item)
    }
    this.#queue = []
    this.#head = 0
    this.#queuedBytes = 0
  }

  #transferOf(frame: Uint8Array): Sending {
    const index = this.#kept.findIndex((kept) => sameBytes(kept.chunks.frame, frame))
    if (index === -1) return { chunks: this.#options.cut(frame), next: 0, acked: 0 }
    const [kept] = this.#kept.splice(index, 1) as [Sending]
    // Sent again from the last chunk the receiver reported; it corrects us if it holds less.
    kept.next = kept.acked
    return kept
  }

  #keep(item: Sending): void {
    if (item.acked >= item.chunks.count) return
    this.#kept = this.#kept.filter((kept) => kept.chunks.transfer !== item.chunks.transfer)
    this.#kept.push(item)
    const keep = this.#options.keep ?? 4
    if (this.#kept.length > keep) this.#kept.splice(0, this.#kept.length - keep)
  }

  #enqueue(item: Sending): void {
    this.#queue.push(item)
    if (this.#queue.length - this.#head === 1) this.#pump()
  }

  /** Sends what the head of the queue allows: chunks within the window, frames after a transfer. */
  #pump(): void {
    while (this.#head < this.#queue.length) {
      const item = this.#queue[this.#head] as Item
      if ('chunks' in item) {
        const { chunks } = item
        const limit = Math.min(chunks.count, item.acked + this.#window)
        while (item.next < limit) this.#options.send(chunks.chunk(item.next++))
        if (item.acked < chunks.count) return
      } else {
        this.#queuedBytes -= item.frame.length
        this.#options.send(item.frame)
      }
      this.#queue[this.#head++] = undefined as unknown as Item
    }
    this.#queue = []
    this.#head = 0
  }
}

/** Byte-wise equality; a length check first, then a plain loop (frames can be megabytes). */
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false
  return true
}
