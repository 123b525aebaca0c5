/** Encoding and decoding of Weft dialect frames with lib0, with hard caps and coded errors. */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import {
  MESSAGE_SPECS,
  MESSAGE_TYPES_BY_TAG,
  type FieldKind,
  type MessageType,
  type WeftMessage,
} from './messages.js'
import { readCheckedVarBytes, readCheckedVarUint } from './bounded-read.js'
import { WeftError } from './weft-error.js'

/** Longest string field a decoder accepts (tokens, names, reasons), in UTF-8 bytes. */
export const MAX_STRING_BYTES = 64 * 1024

// ignoreBOM: a leading U+FEFF is content; stripping it would break decode(encode(s)) === s.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const utf8Encoder = new TextEncoder()
// With the u flag this matches only unpaired surrogates, which UTF-8 cannot carry.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

/**
 * Encodes one message as a binary frame. Throws `INVALID_ARGUMENT` when the type is unknown, a
 * field has the wrong type, or a string has lone surrogates or is over {@link MAX_STRING_BYTES},
 * so a frame the decoder would refuse never reaches the wire.
 */
export const encodeMessage = (message: WeftMessage): Uint8Array => {
  // hasOwn: a type such as 'toString' must not find Object.prototype members.
  const spec = Object.hasOwn(MESSAGE_SPECS, message.type)
    ? MESSAGE_SPECS[message.type as MessageType]
    : undefined
  if (spec === undefined) {
    throw new WeftError('INVALID_ARGUMENT', `unknown message type ${String(message.type)}`)
  }
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, spec.tag)
  const fields = message as unknown as Record<string, unknown>
  for (const [name, kind] of spec.fields) {
    writeField(encoder, message.type, String(name), kind, fields[name as string])
  }
  return encoding.toUint8Array(encoder)
}

const writeField = (
  encoder: encoding.Encoder,
  type: string,
  name: string,
  kind: FieldKind,
  value: unknown,
): void => {
  if (kind === 'uint' && typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
    encoding.writeVarUint(encoder, value)
  } else if (kind === 'string' && typeof value === 'string' && !LONE_SURROGATE.test(value)) {
    // The bytes of lib0 writeVarString, capped so that a decoder accepts every frame we send.
    const bytes = utf8Encoder.encode(value)
    if (bytes.length > MAX_STRING_BYTES) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `${type}.${name} is over ${MAX_STRING_BYTES} UTF-8 bytes`,
      )
    }
    encoding.writeVarUint8Array(encoder, bytes)
  } else if (kind === 'bytes' && value instanceof Uint8Array) {
    encoding.writeVarUint8Array(encoder, value)
  } else {
    throw new WeftError('INVALID_ARGUMENT', `${type}.${name} must be a ${describe(kind)}`)
  }
}

const describe = (kind: FieldKind): string =>
  kind === 'uint'
    ? 'non-negative safe integer'
    : kind === 'string'
      ? 'string without lone surrogates'
      : 'Uint8Array'

/**
 * Decodes one binary frame. Every malformed input (empty, truncated, trailing bytes, invalid
 * UTF-8, oversized strings, integers beyond 2^53) throws a {@link WeftError} with code
 * `BAD_MESSAGE`; an unknown tag throws `UNKNOWN_MESSAGE`. Byte fields are copies that own their
 * buffer, so they stay valid after the frame is reused.
 */
export const decodeMessage = (frame: Uint8Array): WeftMessage => {
  if (!(frame instanceof Uint8Array)) {
    throw new WeftError('INVALID_ARGUMENT', 'decodeMessage takes a Uint8Array')
  }
  const decoder = decoding.createDecoder(frame)
  const tag = readCheckedVarUint(decoder, 'tag')
  const type = MESSAGE_TYPES_BY_TAG.get(tag)
  if (type === undefined) {
    throw new WeftError('UNKNOWN_MESSAGE', `message tag ${tag} is not part of this protocol`)
  }
  const message: Record<string, unknown> = { type }
  for (const [name, kind] of MESSAGE_SPECS[type].fields) {
    message[name as string] = readField(decoder, kind, `${type}.${String(name)}`)
  }
  if (decoding.hasContent(decoder)) {
    throw new WeftError('BAD_MESSAGE', `${type} has ${frame.length - decoder.pos} trailing bytes`)
  }
  return message as unknown as WeftMessage
}

const readField = (decoder: decoding.Decoder, kind: FieldKind, what: string): unknown => {
  if (kind === 'uint') return readCheckedVarUint(decoder, what)
  const bytes = readCheckedVarBytes(decoder, what)
  if (kind === 'bytes') return bytes
  if (bytes.length > MAX_STRING_BYTES) {
    throw new WeftError('BAD_MESSAGE', `${what} is ${bytes.length} bytes, over ${MAX_STRING_BYTES}`)
  }
  try {
    return utf8Decoder.decode(bytes)
  } catch (cause) {
    throw new WeftError('BAD_MESSAGE', `${what} is not valid UTF-8`, { cause })
  }
}
