/** Outgoing: one update, batch of updates or awareness message to fan out, encoded once per dialect. */
import { encodeMessage } from '@weft/protocol'
import { encodeYwsAwareness, encodeYwsSync } from './yws-codec.js'

/** The two wire dialects a relay socket can speak. */
export type Dialect = 'weft' | 'y-websocket'

/** What an outgoing message carries. */
export type OutgoingContent =
  | { readonly kind: 'update'; readonly update: Uint8Array }
  | { readonly kind: 'updates'; readonly updates: readonly Uint8Array[] }
  | { readonly kind: 'awareness'; readonly update: Uint8Array }

/**
 * A message for every peer of a room. Each dialect's frames are encoded on first use and shared
 * by all recipients speaking that dialect. A batch is one Weft frame, and one y-websocket frame
 * per update (that dialect has no batches).
 */
export class Outgoing {
  readonly content: OutgoingContent
  readonly #doc: string
  #weft: Uint8Array[] | undefined
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

  /** The frames for `dialect`, encoded once. */
  frames(dialect: Dialect): readonly Uint8Array[] {
    if (dialect === 'weft') return (this.#weft ??= [this.#encodeWeft()])
    return (this.#yws ??= this.#encodeYws())
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
    return this.updates.map((update) => encodeYwsSync('update', update))
  }
}
