/** Outgoing: one update or awareness message to fan out, encoded at most once per dialect. */
import { encodeMessage } from '@weft/protocol'
import { encodeYwsAwareness, encodeYwsSync } from './yws-codec.js'

/** The two wire dialects a relay socket can speak. */
export type Dialect = 'weft' | 'y-websocket'

/**
 * A message for every peer of a room. Each dialect's frame is encoded on first use and shared by
 * all recipients speaking that dialect.
 */
export class Outgoing {
  readonly kind: 'update' | 'awareness'
  readonly payload: Uint8Array
  readonly #doc: string
  #weft: Uint8Array | undefined
  #yws: Uint8Array | undefined

  constructor(doc: string, kind: 'update' | 'awareness', payload: Uint8Array) {
    this.#doc = doc
    this.kind = kind
    this.payload = payload
  }

  /** The frame for `dialect`, encoded once. */
  frame(dialect: Dialect): Uint8Array {
    if (dialect === 'weft') {
      this.#weft ??=
        this.kind === 'update'
          ? encodeMessage({ type: 'update', doc: this.#doc, ref: 0, update: this.payload })
          : encodeMessage({ type: 'awareness', doc: this.#doc, update: this.payload })
      return this.#weft
    }
    this.#yws ??=
      this.kind === 'update'
        ? encodeYwsSync('update', this.payload)
        : encodeYwsAwareness(this.payload)
    return this.#yws
  }
}
