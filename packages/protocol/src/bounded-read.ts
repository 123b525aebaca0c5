/** lib0 readers that check bounds and turn every decoding failure into a coded WeftError. */
import * as decoding from 'lib0/decoding'
import { WeftError } from './weft-error.js'

/** Longest varUint accepted: 8 bytes carry 56 bits, enough for any safe integer (53 bits). */
const MAX_VAR_UINT_BYTES = 8

/**
 * Reads a lib0 varUint; a truncated or over-2^53 number throws `BAD_MESSAGE` naming `what`.
 * Only the minimal encoding lib0 writes is accepted (at most 8 bytes, no trailing zero byte), so
 * every accepted frame re-encodes to the same bytes.
 */
export const readCheckedVarUint = (decoder: decoding.Decoder, what: string): number => {
  const start = decoder.pos
  let value: number
  try {
    value = decoding.readVarUint(decoder)
  } catch (cause) {
    throw new WeftError('BAD_MESSAGE', `${what} is truncated or out of range`, { cause })
  }
  const length = decoder.pos - start
  // lib0 checks the range only before continuation bytes, and turns long 0x80 runs into NaN.
  if (length > MAX_VAR_UINT_BYTES || !Number.isSafeInteger(value)) {
    throw new WeftError('BAD_MESSAGE', `${what} is out of range (over 2^53 - 1)`)
  }
  if (length > 1 && decoder.arr[decoder.pos - 1] === 0) {
    throw new WeftError('BAD_MESSAGE', `${what} is not minimally encoded`)
  }
  return value
}

/**
 * Reads a lib0 varUint8Array as a copy that owns its buffer. Unlike lib0's reader it never reads
 * past the end of the decoder's view, even when that view sits inside a larger buffer.
 */
export const readCheckedVarBytes = (decoder: decoding.Decoder, what: string): Uint8Array => {
  const length = readCheckedVarUint(decoder, `${what} length`)
  const remaining = decoder.arr.length - decoder.pos
  if (length > remaining) {
    throw new WeftError('BAD_MESSAGE', `${what} is truncated (${length} bytes, ${remaining} left)`)
  }
  // Copy through the constructor: on a Node Buffer (what ws delivers) `slice` returns a view.
  const bytes = new Uint8Array(decoder.arr.subarray(decoder.pos, decoder.pos + length))
  decoder.pos += length
  return bytes
}
