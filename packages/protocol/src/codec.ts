/** Encoding and decoding of Weft dialect frames in lib0's wire format, with hard caps and coded errors. */
import * as decoding from 'lib0/decoding'
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

/**
 * Most items a list field may hold. Without it a frame of empty items would decode into one
 * object per byte (about 200 bytes of heap each) before anything could refuse it.
 */
export const MAX_LIST_ITEMS = 65_536

// ignoreBOM: a leading U+FEFF is content; stripping it would break decode(encode(s)) === s.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const utf8Encoder = new TextEncoder()
// With the u flag this matches only unpaired surrogates, which UTF-8 cannot carry.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

/**
 * Encodes one message as a binary frame (the bytes lib0's encoders would write). Throws
 * `INVALID_ARGUMENT` when the type is unknown, a field has the wrong type, or a string has lone
 * surrogates or is over {@link MAX_STRING_BYTES}, so a frame the decoder would refuse never
 * reaches the wire. The frame is sized first and written into one exact allocation: this runs
 * once per update on the hot path.
 */
export const encodeMessage = (message: WeftMessage): Uint8Array => {
  // hasOwn: a type such as 'toString' must not find Object.prototype members.
  const spec = Object.hasOwn(MESSAGE_SPECS, message.type)
    ? MESSAGE_SPECS[message.type as MessageType]
    : undefined
  if (spec === undefined) {
    throw new WeftError('INVALID_ARGUMENT', `unknown message type ${String(message.type)}`)
  }
  const fields = message as unknown as Record<string, unknown>
  const parts: Array<number | Uint8Array | Uint8Array[]> = []
  let size = varUintLength(spec.tag)
  for (const [name, kind] of spec.fields) {
    const part = checkField(message.type, String(name), kind, fields[name as string])
    parts.push(part)
    size += partLength(part)
  }
  const frame = new Uint8Array(size)
  let position = writeVarUint(frame, 0, spec.tag)
  for (const part of parts) {
    if (typeof part === 'number') {
      position = writeVarUint(frame, position, part)
    } else if (part instanceof Uint8Array) {
      position = writeBytes(frame, position, part)
    } else {
      position = writeVarUint(frame, position, part.length)
      for (const item of part) position = writeBytes(frame, position, item)
    }
  }
  return frame
}

const bytesLength = (bytes: Uint8Array): number => varUintLength(bytes.length) + bytes.length

const partLength = (part: number | Uint8Array | Uint8Array[]): number => {
  if (typeof part === 'number') return varUintLength(part)
  if (part instanceof Uint8Array) return bytesLength(part)
  let length = varUintLength(part.length)
  for (const item of part) length += bytesLength(item)
  return length
}

const writeBytes = (target: Uint8Array, position: number, bytes: Uint8Array): number => {
  const at = writeVarUint(target, position, bytes.length)
  target.set(bytes, at)
  return at + bytes.length
}

/** Validates one field and returns what goes on the wire: a number, bytes to length-prefix, or a list of them. */
const checkField = (
  type: string,
  name: string,
  kind: FieldKind,
  value: unknown,
): number | Uint8Array | Uint8Array[] => {
  if (kind === 'uint' && typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
    return value
  }
  if (kind === 'string' && typeof value === 'string') {
    const bytes = encodeUtf8(value)
    if (bytes !== null) {
      // Capped so that a decoder accepts every frame we send.
      if (bytes.length > MAX_STRING_BYTES) {
        throw new WeftError(
          'INVALID_ARGUMENT',
          `${type}.${name} is over ${MAX_STRING_BYTES} UTF-8 bytes`,
        )
      }
      return bytes
    }
  }
  if (kind === 'bytes' && value instanceof Uint8Array) return value
  if (kind === 'bytes-list' && isBytesList(value)) {
    if (value.length > MAX_LIST_ITEMS) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `${type}.${name} has over ${MAX_LIST_ITEMS} items; split it`,
      )
    }
    return value
  }
  throw new WeftError('INVALID_ARGUMENT', `${type}.${name} must be ${describe(kind)}`)
}

/** UTF-8 bytes of `text`, or `null` when it has lone surrogates. Short ASCII skips TextEncoder. */
const encodeUtf8 = (text: string): Uint8Array | null => {
  if (text.length <= 64) {
    const bytes = new Uint8Array(text.length)
    let index = 0
    for (; index < text.length; index++) {
      const code = text.charCodeAt(index)
      if (code > 0x7f) break
      bytes[index] = code
    }
    if (index === text.length) return bytes
  }
  return LONE_SURROGATE.test(text) ? null : utf8Encoder.encode(text)
}

/** Bytes of a lib0 varUint (7 bits per byte). */
const varUintLength = (value: number): number => {
  let length = 1
  for (let rest = value; rest > 0x7f; rest = Math.floor(rest / 128)) length++
  return length
}

/** Writes a lib0 varUint at `position`; returns the position after it. Safe up to 2^53. */
const writeVarUint = (target: Uint8Array, position: number, value: number): number => {
  let rest = value
  let at = position
  while (rest > 0x7f) {
    target[at++] = 0x80 | (rest % 128)
    rest = Math.floor(rest / 128)
  }
  target[at++] = rest
  return at
}

const DESCRIPTIONS: { readonly [K in FieldKind]: string } = {
  uint: 'a non-negative safe integer',
  string: 'a string without lone surrogates',
  bytes: 'a Uint8Array',
  'bytes-list': 'a dense array of Uint8Array',
}

const describe = (kind: FieldKind): string => DESCRIPTIONS[kind]

/** Every index holds a Uint8Array (`every` would skip the holes of a sparse array). */
const isBytesList = (value: unknown): value is Uint8Array[] => {
  if (!Array.isArray(value)) return false
  for (let index = 0; index < value.length; index++) {
    if (!(value[index] instanceof Uint8Array)) return false
  }
  return true
}

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
  if (kind === 'bytes-list') return readBytesList(decoder, what)
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

/** A varUint count, then that many varUint8Arrays; the count cannot exceed the bytes left. */
const readBytesList = (decoder: decoding.Decoder, what: string): Uint8Array[] => {
  const count = readCheckedVarUint(decoder, `${what} count`)
  // Every item takes at least one byte (its length), so a larger count is a lie.
  if (count > decoder.arr.length - decoder.pos) {
    throw new WeftError('BAD_MESSAGE', `${what} claims ${count} items in fewer bytes`)
  }
  if (count > MAX_LIST_ITEMS) {
    throw new WeftError('BAD_MESSAGE', `${what} has ${count} items, over ${MAX_LIST_ITEMS}`)
  }
  const items: Uint8Array[] = []
  for (let index = 0; index < count; index++)
    items.push(readCheckedVarBytes(decoder, `${what}[${index}]`))
  return items
}

/** Tags of the messages that start with a document name and a ref. */
const DOC_REF_TAGS = new Set(
  (['sync-step-2', 'update', 'updates'] as const).map((type) => MESSAGE_SPECS[type].tag),
)

/**
 * The type, document and ref at the head of a `sync-step-2`, `update` or `updates` frame (or of
 * a `traced` one carrying such a frame), read from its first bytes alone (the first chunk of a
 * transfer is enough); `null` for any other frame, or a head that is malformed or cut short.
 */
export const decodeDocHead = (
  bytes: Uint8Array,
): { type: MessageType; doc: string; ref: number } | null => {
  try {
    const decoder = decoding.createDecoder(bytes)
    let tag = readCheckedVarUint(decoder, 'tag')
    // A traced frame starts with the frame it carries: its head is that frame's.
    if (tag === MESSAGE_SPECS.traced.tag) {
      readCheckedVarUint(decoder, 'traced.frame length')
      tag = readCheckedVarUint(decoder, 'tag')
    }
    const type = MESSAGE_TYPES_BY_TAG.get(tag)
    if (type === undefined || !DOC_REF_TAGS.has(tag)) return null
    const doc = readField(decoder, 'string', `${type}.doc`) as string
    const ref = readCheckedVarUint(decoder, `${type}.ref`)
    return { type, doc, ref }
  } catch {
    return null
  }
}
