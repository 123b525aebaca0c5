/**
 * Compressed frames (protocol version 2): a large frame travels deflated, in a `compressed`
 * message, when both sides speak version 2 and that makes it smaller; the receiver inflates it
 * within its frame limit. Raw DEFLATE through fflate, the same in browsers, Node and React Native.
 */
import { deflateSync, inflateSync } from 'fflate'
import { encodeMessage } from './codec.js'
import { MESSAGE_SPECS, type CompressedMessage } from './messages.js'
import { COMPRESSION_VERSION } from './version.js'
import { WeftError } from './weft-error.js'

/**
 * Frames from this many bytes are compressed by default: a document's sync, a large edit or a
 * reconnect's backlog. Live edits (a few KB a batch) go as they are: deflating them would cost
 * the relay more CPU than their bytes cost the network.
 */
export const DEFAULT_COMPRESS_FROM_BYTES = 64 * 1024

/** A `compressed` frame is sent only when it saves at least this share of the frame. */
const MIN_SAVING = 1 / 8

/**
 * Raw DEFLATE (RFC 1951), both ways. The default is fflate's, which runs everywhere; a Node
 * relay passes node:zlib's, several times faster.
 */
export interface DeflateCodec {
  /** `bytes` deflated, at the fastest level worth having. */
  deflate(bytes: Uint8Array): Uint8Array
  /**
   * `payload` inflated into at most `maxBytes` bytes: more is cut short or thrown, either of
   * which `expandFrame` refuses. Throws when the payload is not raw DEFLATE.
   */
  inflate(payload: Uint8Array, maxBytes: number): Uint8Array
}

/** fflate's raw DEFLATE, level 1: three times faster than its default, within a few per cent of its size. */
export const FFLATE_CODEC: DeflateCodec = {
  deflate: (bytes) => deflateSync(bytes, { level: 1 }),
  inflate: (payload, maxBytes) => inflateSync(payload, { out: new Uint8Array(maxBytes) }),
}

/**
 * `frame` as it goes to a peer that speaks protocol `version`: a `compressed` frame when the
 * version has them, the frame has at least `fromBytes` bytes (`null`: never) and deflating saves
 * an eighth or more; else `frame` itself.
 */
export const compressFrame = (
  frame: Uint8Array,
  version: number,
  fromBytes: number | null = DEFAULT_COMPRESS_FROM_BYTES,
  codec: DeflateCodec = FFLATE_CODEC,
): Uint8Array => {
  if (version < COMPRESSION_VERSION || fromBytes === null || frame.length < fromBytes) return frame
  const payload = codec.deflate(frame)
  if (payload.length > frame.length * (1 - MIN_SAVING)) return frame
  return encodeMessage({ type: 'compressed', size: frame.length, payload })
}

/**
 * The frame a `compressed` message carries. Throws `MESSAGE_TOO_BIG` when it says it is larger
 * than `maxBytes` (before inflating anything), and `BAD_MESSAGE` when its payload does not
 * inflate to exactly `size` bytes or holds another `compressed` frame.
 */
export const expandFrame = (
  message: CompressedMessage,
  maxBytes: number,
  codec: DeflateCodec = FFLATE_CODEC,
): Uint8Array => {
  const { size, payload } = message
  if (size > maxBytes) {
    throw new WeftError(
      'MESSAGE_TOO_BIG',
      `a compressed frame of ${size} bytes is over the limit of ${maxBytes}`,
    )
  }
  // One byte more than announced: a payload that inflates to more is caught, not cut short.
  let frame: Uint8Array
  try {
    frame = codec.inflate(payload, size + 1)
  } catch (cause) {
    throw new WeftError('BAD_MESSAGE', 'a compressed frame does not inflate', { cause })
  }
  if (frame.length !== size) {
    throw new WeftError(
      'BAD_MESSAGE',
      `a compressed frame announced ${size} bytes and inflates to ${frame.length}${frame.length > size ? ' or more' : ''}`,
    )
  }
  if (frame[0] === MESSAGE_SPECS.compressed.tag) {
    throw new WeftError('BAD_MESSAGE', 'a compressed frame may not hold another one')
  }
  return frame
}
