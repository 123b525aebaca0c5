/**
 * Reads which awareness client ids a received frame names, in the wire format of each client
 * kind, without applying it: a client's own state sent back to it (an echo) changes nothing in
 * its awareness, so only the frame shows it.
 */
import type { ClientKind } from '../systems.js'

/** The Weft dialect's tag of an `awareness` message (`MESSAGE_SPECS` in @weft/protocol). */
const WEFT_AWARENESS_TAG = 7
/** y-websocket's and Hocuspocus's message type of an awareness update. */
const YJS_AWARENESS_TYPE = 1

/** A cursor over lib0-encoded bytes (varuints, length-prefixed byte strings). */
class Reader {
  readonly #bytes: Uint8Array
  #at = 0

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes
  }

  /** A lib0 varuint: 7 bits a byte, least significant first (up to 2^53, so no bit shifts). */
  uint(): number {
    let value = 0
    let scale = 1
    for (;;) {
      const byte = this.#bytes[this.#at++]
      if (byte === undefined) throw new RangeError('frame ends inside a varuint')
      value += (byte & 0x7f) * scale
      if (byte < 0x80) return value
      scale *= 128
    }
  }

  /** A varuint length, then that many bytes. */
  bytes(): Uint8Array {
    const length = this.uint()
    if (this.#at + length > this.#bytes.length) throw new RangeError('frame ends inside bytes')
    const bytes = this.#bytes.subarray(this.#at, this.#at + length)
    this.#at += length
    return bytes
  }
}

/** The awareness update a frame carries, or `null` when it is another kind of message. */
const awarenessUpdateOf = (kind: ClientKind, frame: Uint8Array): Uint8Array | null => {
  const reader = new Reader(frame)
  switch (kind) {
    case 'weft':
      // tag, doc (string), update (bytes)
      if (reader.uint() !== WEFT_AWARENESS_TAG) return null
      reader.bytes()
      return reader.bytes()
    case 'y-websocket':
      // type, update (bytes)
      return reader.uint() === YJS_AWARENESS_TYPE ? reader.bytes() : null
    case 'hocuspocus':
      // document name (string), type, update (bytes)
      reader.bytes()
      return reader.uint() === YJS_AWARENESS_TYPE ? reader.bytes() : null
  }
}

/**
 * The client ids named by the awareness update in `frame` (y-protocols' format: a count, then
 * per entry client id, clock and state JSON), or `null` when the frame is not an awareness
 * message. A frame that cannot be read counts as not awareness.
 */
export const awarenessClientIds = (kind: ClientKind, frame: Uint8Array): number[] | null => {
  try {
    const update = awarenessUpdateOf(kind, frame)
    if (update === null) return null
    const reader = new Reader(update)
    const count = reader.uint()
    const ids: number[] = []
    for (let i = 0; i < count; i++) {
      ids.push(reader.uint())
      reader.uint()
      reader.bytes()
    }
    return ids
  } catch {
    return null
  }
}
