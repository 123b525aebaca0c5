/** Outgoing: one update, batch of updates or awareness message to fan out, encoded once per dialect. */
import { compressFrame, COMPRESSION_VERSION, encodeMessage } from '@weft/protocol'
import * as Y from 'yjs'
import { encodeYwsAwareness, encodeYwsSync } from './yws-codec.js'
import { ZLIB_CODEC } from './zlib-codec.js'

/** Most updates merged into one y-websocket frame. */
const YWS_MERGE_CHUNK = 64

/** The two wire dialects a relay socket can speak. */
export type Dialect = 'weft' | 'y-websocket'

/** What an outgoing message carries. */
export type OutgoingContent =
  | { readonly kind: 'update'; readonly update: Uint8Array }
  | { readonly kind: 'updates'; readonly updates: readonly Uint8Array[] }
  | { readonly kind: 'awareness'; readonly update: Uint8Array }

/**
 * A message for every peer of a room. Each dialect's frames are encoded on first use and shared
 * by all recipients speaking that dialect. A batch is one Weft frame, and y-websocket frames of
 * up to 64 merged updates each (that dialect has no batches).
 */
export class Outgoing {
  readonly content: OutgoingContent
  readonly #doc: string
  #weft: Uint8Array[] | undefined
  /** The Weft frame as it goes to clients that take compressed frames, by threshold. */
  #weftCompressed: { fromBytes: number; frames: Uint8Array[] } | undefined
  #yws: Uint8Array[] | undefined

  constructor(doc: string, content: OutgoingContent) {
    this.#doc = doc
    this.content = content
  }

  /** The updates carried (one for `update`, none for awareness). */
  get updates(): readonly Uint8Array[] {
    const { content } = this
    return content.kind === 'updates'
      ? content.updates
      : content.kind === 'update'
        ? [content.update]
        : []
  }

  /**
   * The frames for `dialect`, encoded once; for Weft clients that take compressed frames
   * (`compressFromBytes` not null), compressed once too.
   */
  frames(dialect: Dialect, compressFromBytes: number | null = null): readonly Uint8Array[] {
    if (dialect !== 'weft') return (this.#yws ??= this.#encodeYws())
    const frames = (this.#weft ??= [this.#encodeWeft()])
    if (compressFromBytes === null) return frames
    const cached = this.#weftCompressed
    if (cached?.fromBytes === compressFromBytes) return cached.frames
    const compressed = frames.map((frame) =>
      compressFrame(frame, COMPRESSION_VERSION, compressFromBytes, ZLIB_CODEC),
    )
    this.#weftCompressed = { fromBytes: compressFromBytes, frames: compressed }
    return compressed
  }

  #encodeWeft(): Uint8Array {
    const { content } = this
    const doc = this.#doc
    if (content.kind === 'updates')
      return encodeMessage({ type: 'updates', doc, ref: 0, updates: [...content.updates] })
    if (content.kind === 'update')
      return encodeMessage({ type: 'update', doc, ref: 0, update: content.update })
    return encodeMessage({ type: 'awareness', doc, update: content.update })
  }

  #encodeYws(): Uint8Array[] {
    const { content } = this
    if (content.kind === 'awareness') return [encodeYwsAwareness(content.update)]
    // A stock client applies each frame in its own transaction; merging a few updates into one
    // saves it most of that cost. Merging grows faster than the number of updates, so the
    // chunks stay small.
    const frames: Uint8Array[] = []
    const { updates } = this
    for (let start = 0; start < updates.length; start += YWS_MERGE_CHUNK) {
      const chunk = updates.slice(start, start + YWS_MERGE_CHUNK)
      const update = chunk.length === 1 ? (chunk[0] as Uint8Array) : Y.mergeUpdates(chunk)
      frames.push(encodeYwsSync('update', update))
    }
    return frames
  }
}
