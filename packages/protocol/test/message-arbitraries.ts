/** fast-check arbitraries for Weft messages, built from MESSAGE_SPECS so new messages are covered. */
import fc from 'fast-check'
import {
  MESSAGE_SPECS,
  type FieldKind,
  type MessageOf,
  type MessageType,
  type WeftMessage,
} from '../src/index.js'

/** Non-negative safe integers, biased towards the varUint byte-length boundaries. */
export const uintArbitrary: fc.Arbitrary<number> = fc.oneof(
  fc.nat(),
  fc.maxSafeNat(),
  fc.constantFrom(
    0,
    127,
    128,
    16_383,
    16_384,
    2 ** 32,
    2 ** 49 - 1,
    2 ** 49,
    Number.MAX_SAFE_INTEGER,
  ),
)

/** Well-formed strings: any code point, grapheme clusters, and a leading byte-order mark. */
export const stringArbitrary: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary' }).map((rest) => `\uFEFF${rest}`),
  fc.constantFrom('', '\u0000', 'notes', 'café/日本/📝'),
)

/** Byte fields, from empty to long enough for a 2-byte length prefix. */
export const bytesArbitrary: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 16 }),
  fc.uint8Array({ minLength: 120, maxLength: 300 }),
)

/** Lists of byte fields, empty included. */
export const bytesListArbitrary: fc.Arbitrary<Uint8Array[]> = fc.array(bytesArbitrary, {
  maxLength: 5,
})

const fieldArbitraries: { readonly [K in FieldKind]: fc.Arbitrary<unknown> } = {
  uint: uintArbitrary,
  string: stringArbitrary,
  bytes: bytesArbitrary,
  'bytes-list': bytesListArbitrary,
}

/** Arbitrary messages of one type, every field drawn from its kind's arbitrary. */
export const messageArbitrary = <T extends MessageType>(type: T): fc.Arbitrary<MessageOf<T>> => {
  const fields = Object.fromEntries(
    MESSAGE_SPECS[type].fields.map(([name, kind]) => [name, fieldArbitraries[kind]]),
  )
  return fc.record(fields).map((values) => ({ type, ...values }) as unknown as MessageOf<T>)
}

/** Every message type in MESSAGE_SPECS. */
export const messageTypes = Object.keys(MESSAGE_SPECS) as MessageType[]

/** Arbitrary messages of any type. */
export const anyMessageArbitrary: fc.Arbitrary<WeftMessage> = fc.oneof(
  ...messageTypes.map((type) => messageArbitrary(type) as fc.Arbitrary<WeftMessage>),
)
