/** JoinFrames: a document's whole state as the frame a fresh client gets, built once per change. */
import { compressFrame, COMPRESSION_VERSION, encodeMessage } from '@weft/protocol'
import * as Y from 'yjs'
import { ZLIB_CODEC } from './zlib-codec.js'

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
  readonly #frames = new Map<number | null, Uint8Array>()

  constructor(doc: Y.Doc, name: string) {
    this.#doc = doc
    this.#name = name
    doc.on('update', () => this.#frames.clear())
  }

  /** The frame, compressed from `compressFromBytes` (`null`: as it is). */
  frame(compressFromBytes: number | null): Uint8Array {
    let frame = this.#frames.get(compressFromBytes)
    if (frame === undefined) {
      const update = Y.encodeStateAsUpdate(this.#doc)
      const encoded = encodeMessage({ type: 'sync-step-2', doc: this.#name, ref: 0, update })
      frame = compressFrame(encoded, COMPRESSION_VERSION, compressFromBytes, ZLIB_CODEC)
      this.#frames.set(compressFromBytes, frame)
    }
    return frame
  }
}
