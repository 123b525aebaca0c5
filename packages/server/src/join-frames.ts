/** JoinFrames: a document's whole state as the frame a fresh client gets, built once per change. */
import {
  ChunkedFrame,
  compressFrame,
  COMPRESSION_VERSION,
  encodeMessage,
  newTransferId,
} from '@weft/protocol'
import * as Y from 'yjs'
import type { SyncTransfer } from './relay-transfers.js'
import { ZLIB_CODEC } from './zlib-codec.js'

interface JoinFrame {
  readonly frame: Uint8Array
  readonly stateVector: Uint8Array
  transfer?: SyncTransfer
}

/**
 * The `sync-step-2` frame with the whole state of a room's document, for Weft clients that have
 * none of it: encoded (and compressed, per threshold) once per change of the document and shared
 * by every such joiner, so a join storm costs one encoding, not one per joiner. Forgotten at the
 * document's next change.
 */
export class JoinFrames {
  readonly #doc: Y.Doc
  readonly #name: string
  /** By compression threshold (`null`: uncompressed). */
  readonly #frames = new Map<number | null, JoinFrame>()

  constructor(doc: Y.Doc, name: string) {
    this.#doc = doc
    this.#name = name
    doc.on('update', () => this.#frames.clear())
  }

  /** The frame, compressed from `compressFromBytes` (`null`: as it is). */
  frame(compressFromBytes: number | null): Uint8Array {
    return this.#entry(compressFromBytes).frame
  }

  /**
   * The same frame as a chunked transfer (protocol version 3), its chunks encoded once for every
   * joiner, with the state vector it was built at (for resuming it later).
   */
  transfer(compressFromBytes: number | null): SyncTransfer {
    const entry = this.#entry(compressFromBytes)
    entry.transfer ??= {
      chunks: new ChunkedFrame(newTransferId(), entry.frame, { cache: true }),
      doc: this.#name,
      stateVector: entry.stateVector,
    }
    return entry.transfer
  }

  #entry(compressFromBytes: number | null): JoinFrame {
    let entry = this.#frames.get(compressFromBytes)
    if (entry === undefined) {
      const update = Y.encodeStateAsUpdate(this.#doc)
      const encoded = encodeMessage({ type: 'sync-step-2', doc: this.#name, ref: 0, update })
      entry = {
        frame: compressFrame(encoded, COMPRESSION_VERSION, compressFromBytes, ZLIB_CODEC),
        stateVector: Y.encodeStateVector(this.#doc),
      }
      this.#frames.set(compressFromBytes, entry)
    }
    return entry
  }
}
