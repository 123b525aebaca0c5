/**
 * Reading the most common updates there are straight from their bytes: a run of characters
 * typed after a character the document has, and a deletion of one client's content (erasing).
 * What `Y.decodeUpdate` returns for them, for a fraction of the cost (no struct reader, no
 * generator, no update decoder).
 */
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'

/** Yjs v1 struct info: content kind in the low five bits, then which references follow. */
const CONTENT_STRING = 4
const CONTENT_BITS = 0b11111
const HAS_PARENT_SUB = 0b0010_0000
const HAS_RIGHT_ORIGIN = 0b0100_0000
const HAS_ORIGIN = 0b1000_0000

/**
 * The update as decoded, when it is exactly one string item of one client with an origin (and
 * perhaps a right origin), no parent info and no deletions: in Yjs v1 bytes, `1 1 client clock
 * info origin [right origin] string 0`. `null` for anything else, including anything malformed:
 * decode it the usual way, which says what is wrong.
 */
export const scanTypedUpdate = (
  update: Uint8Array,
): { structs: [Y.Item]; ds: ReturnType<typeof Y.createDeleteSet> } | null => {
  // One client, one struct: both counts are single-byte varints.
  if (update.length < 8 || update[0] !== 1 || update[1] !== 1) return null
  try {
    const decoder = decoding.createDecoder(update)
    decoder.pos = 2
    const client = decoding.readVarUint(decoder)
    const clock = decoding.readVarUint(decoder)
    const info = decoding.readUint8(decoder)
    if ((info & CONTENT_BITS) !== CONTENT_STRING || (info & HAS_ORIGIN) === 0) return null
    if ((info & HAS_PARENT_SUB) !== 0) return null
    const origin = Y.createID(decoding.readVarUint(decoder), decoding.readVarUint(decoder))
    const rightOrigin =
      (info & HAS_RIGHT_ORIGIN) === 0
        ? null
        : Y.createID(decoding.readVarUint(decoder), decoding.readVarUint(decoder))
    const text = readString(decoder)
    // Then an empty delete set, and nothing after it.
    if (text.length === 0 || decoding.readVarUint(decoder) !== 0 || decoder.pos !== update.length)
      return null
    const item = new Y.Item(
      Y.createID(client, clock),
      null,
      origin,
      null,
      rightOrigin,
      null,
      null,
      new Y.ContentString(text),
    )
    return { structs: [item], ds: Y.createDeleteSet() }
  } catch {
    return null
  }
}

/** Strings of at most this many bytes, all ASCII, are read byte by byte. */
const SHORT_ASCII_BYTES = 32

/**
 * `decoding.readVarString`, without a view of the bytes and a `TextDecoder` call for a short
 * ASCII string (a keystroke): those cost more than the rest of the scan.
 */
const readString = (decoder: decoding.Decoder): string => {
  const start = decoder.pos
  const length = decoding.readVarUint(decoder)
  const bytes = decoder.arr
  const end = decoder.pos + length
  if (length <= SHORT_ASCII_BYTES && end <= bytes.length) {
    let text = ''
    let at = decoder.pos
    for (; at < end; at++) {
      const byte = bytes[at] as number
      if (byte >= 0x80) break
      text += String.fromCharCode(byte)
    }
    if (at === end) {
      decoder.pos = end
      return text
    }
  }
  decoder.pos = start
  return decoding.readVarString(decoder)
}

/** Most ranges {@link scanDeletionUpdate} reads; more, and the update is decoded the usual way. */
const MAX_SCANNED_RANGES = 64

/**
 * The update as decoded, when it only deletes content of one client (in Yjs v1 bytes, `0 1
 * client ranges (clock length)…`, at most 64 ranges, none empty); `null` for anything else,
 * including anything malformed.
 */
export const scanDeletionUpdate = (
  update: Uint8Array,
): { structs: []; ds: ReturnType<typeof Y.createDeleteSet> } | null => {
  // No structs, one client in the delete set.
  if (update.length < 5 || update[0] !== 0 || update[1] !== 1) return null
  try {
    const decoder = decoding.createDecoder(update)
    decoder.pos = 2
    const client = decoding.readVarUint(decoder)
    const count = decoding.readVarUint(decoder)
    if (count === 0 || count > MAX_SCANNED_RANGES) return null
    const ranges: Array<{ clock: number; len: number }> = []
    for (let index = 0; index < count; index++) {
      const clock = decoding.readVarUint(decoder)
      const len = decoding.readVarUint(decoder)
      if (len === 0) return null
      ranges.push({ clock, len })
    }
    if (decoder.pos !== update.length) return null
    const ds = Y.createDeleteSet()
    // The delete set's items are `{ clock, len }` (Yjs's DeleteItem, which it does not export).
    ds.clients.set(client, ranges as unknown as NonNullable<ReturnType<typeof ds.clients.get>>)
    return { structs: [], ds }
  } catch {
    return null
  }
}
