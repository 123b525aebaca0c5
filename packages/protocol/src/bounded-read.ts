/** lib0 readers that check bounds and turn every decoding failure into a coded WeftError. */
import * as decoding from 'lib0/decoding'
import { WeftError } from './weft-error.js'

/**
 * Reads a lib0 varUint; a truncated or over-2^53 number throws `BAD_MESSAGE` naming `what`.
 */
export const readCheckedVarUint = (decoder: decoding.Decoder, what: string): number => {
  try {
    return decoding.readVarUint(decoder)
  } catch (cause) {
    throw new WeftError('BAD_MESSAGE', `${what} is truncated or out of range`, { cause })
  }
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
  const bytes = decoder.arr.slice(decoder.pos, decoder.pos + length)
  decoder.pos += length
  return bytes
}
