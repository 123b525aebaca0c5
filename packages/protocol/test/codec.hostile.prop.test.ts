import fc from 'fast-check'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import {
  decodeMessage,
  encodeMessage,
  MESSAGE_SPECS,
  WeftError,
  type WeftMessage,
} from '../src/index.js'
import { fixtures, fromHex, toHex } from './golden-fixtures.js'
import { chooseSeed } from '@weft/testkit'

const seed = chooseSeed('protocol hostile-input')
const SAMPLES = 3000
// "Never hangs": each property gets well under a second per thousand samples.
const TIMEOUT_MS = SAMPLES

type Outcome = 'decoded' | 'BAD_MESSAGE' | 'UNKNOWN_MESSAGE'

/**
 * Decodes untrusted bytes and checks the only two allowed outcomes: a message that re-encodes to
 * exactly these bytes, or a WeftError coded BAD_MESSAGE or UNKNOWN_MESSAGE.
 */
const decodeHostile = (frame: Uint8Array): Outcome => {
  let message: WeftMessage
  try {
    message = decodeMessage(frame)
  } catch (error) {
    if (
      error instanceof WeftError &&
      (error.code === 'BAD_MESSAGE' || error.code === 'UNKNOWN_MESSAGE')
    ) {
      return error.code
    }
    throw error
  }
  expect(toHex(encodeMessage(message))).toBe(toHex(frame))
  return 'decoded'
}

/** Runs the property and returns how often each outcome happened, so a test can insist on variety. */
const checkFrames = (frames: fc.Arbitrary<Uint8Array>): Map<Outcome, number> => {
  const outcomes = new Map<Outcome, number>()
  fc.assert(
    fc.property(frames, (frame) => {
      const outcome = decodeHostile(frame)
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)
    }),
    { seed, numRuns: SAMPLES },
  )
  return outcomes
}

const frameOf = (write: (encoder: encoding.Encoder) => void): Uint8Array => {
  const encoder = encoding.createEncoder()
  write(encoder)
  return encoding.toUint8Array(encoder)
}

const maxTag = Math.max(...Object.values(MESSAGE_SPECS).map((spec) => spec.tag))
const knownTag = fc.integer({ min: 0, max: maxTag })
const fixtureFrames = fixtures.map((fixture) => fromHex(fixture.hex))

/** A fixture frame with a few random byte edits: flip, insert, delete, truncate, append. */
const mutatedFixture: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.constantFrom(...fixtureFrames),
    fc.array(
      fc.tuple(fc.constantFrom('flip', 'insert', 'delete', 'cut', 'append'), fc.nat(), fc.nat(255)),
      {
        minLength: 1,
        maxLength: 4,
      },
    ),
  )
  .map(([frame, edits]) => {
    const bytes = [...frame]
    for (const [edit, position, value] of edits) {
      const at = bytes.length === 0 ? 0 : position % bytes.length
      if (edit === 'flip') bytes[at] = value
      else if (edit === 'insert') bytes.splice(at, 0, value)
      else if (edit === 'delete') bytes.splice(at, 1)
      else if (edit === 'cut') bytes.length = at
      else bytes.push(value)
    }
    return Uint8Array.from(bytes)
  })

// Tags of messages that start with a length-prefixed field (every type but hello, welcome, ping, pong).
const lengthFirstTag = fc.constantFrom(
  ...Object.values(MESSAGE_SPECS)
    .filter((spec) => spec.fields[0]?.[1] !== 'uint')
    .map((spec) => spec.tag),
)

/** A frame whose first string or byte field claims far more bytes than follow. */
const hugeClaimedLength: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    lengthFirstTag,
    fc.integer({ min: 1 << 20, max: Number.MAX_SAFE_INTEGER }),
    fc.uint8Array(),
  )
  .map(([tag, claimed, rest]) =>
    frameOf((encoder) => {
      encoding.writeVarUint(encoder, tag)
      encoding.writeVarUint(encoder, claimed)
      encoding.writeUint8Array(encoder, rest)
    }),
  )

/** A known tag followed by a varUint of 9 to 40 bytes (every byte but the last has bit 8 set). */
const overlongVarUint: fc.Arbitrary<Uint8Array> = fc
  .tuple(knownTag, fc.uint8Array({ minLength: 8, maxLength: 39 }), fc.nat(127), fc.uint8Array())
  .map(([tag, middle, last, rest]) =>
    Uint8Array.from([tag, ...Array.from(middle, (byte) => byte | 0x80), last, ...rest]),
  )

/** A close frame whose doc name is random bytes: mostly invalid UTF-8, sometimes valid. */
const randomUtf8: fc.Arbitrary<Uint8Array> = fc
  .oneof(
    fc.uint8Array({ maxLength: 12 }),
    fc.uint8Array({ maxLength: 12, min: 0x80 }),
    fc
      .array(
        fc.constantFrom(
          [0xc0, 0x80],
          [0xed, 0xa0, 0x80],
          [0xf4, 0x90, 0x80, 0x80],
          [0xe6, 0x97],
          [0x41],
          [0xef, 0xbb, 0xbf],
        ),
      )
      .map((pieces) => Uint8Array.from(pieces.flat())),
  )
  .map((name) =>
    frameOf((encoder) => {
      encoding.writeVarUint(encoder, MESSAGE_SPECS.close.tag)
      encoding.writeVarUint8Array(encoder, name)
    }),
  )

/** Writes the start of an updates frame: tag 14, a short doc name and a ref. The list follows. */
const writeUpdatesHead = (encoder: encoding.Encoder, doc: string, ref: number): void => {
  encoding.writeVarUint(encoder, MESSAGE_SPECS.updates.tag)
  encoding.writeVarString(encoder, doc)
  encoding.writeVarUint(encoder, ref)
}

const shortDoc = fc.constantFrom('d', 'notes', 'café/日本/📝')

/** An updates frame whose list count exceeds the bytes left, from by one to 2^53 − 1. */
const hugeClaimedCount: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    shortDoc,
    fc.maxSafeNat(),
    fc.uint8Array({ maxLength: 32 }),
    fc.oneof(fc.nat(8), fc.integer({ min: 1 << 20, max: Number.MAX_SAFE_INTEGER })),
  )
  .map(([doc, ref, rest, excess]) =>
    frameOf((encoder) => {
      writeUpdatesHead(encoder, doc, ref)
      encoding.writeVarUint(encoder, Math.min(rest.length + 1 + excess, Number.MAX_SAFE_INTEGER))
      encoding.writeUint8Array(encoder, rest)
    }),
  )

/**
 * An updates frame with a list that is nearly right: a count and item lengths that may be off by
 * one either way, and sometimes bytes after the last item.
 */
const nearlyValidList: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    shortDoc,
    fc.nat(1000),
    fc.array(fc.tuple(fc.uint8Array({ maxLength: 8 }), fc.constantFrom(0, 0, 0, -1, 1)), {
      maxLength: 6,
    }),
    fc.constantFrom(0, 0, 0, -1, 1),
    fc.oneof(fc.constant(new Uint8Array()), fc.uint8Array({ minLength: 1, maxLength: 3 })),
  )
  .map(([doc, ref, items, countDelta, trailing]) =>
    frameOf((encoder) => {
      writeUpdatesHead(encoder, doc, ref)
      encoding.writeVarUint(encoder, Math.max(0, items.length + countDelta))
      for (const [item, lengthDelta] of items) {
        encoding.writeVarUint(encoder, Math.max(0, item.length + lengthDelta))
        encoding.writeUint8Array(encoder, item)
      }
      encoding.writeUint8Array(encoder, trailing)
    }),
  )

describe('decoding hostile bytes', () => {
  it(
    'never throws anything but BAD_MESSAGE or UNKNOWN_MESSAGE on random bytes',
    () => {
      const outcomes = checkFrames(fc.uint8Array({ maxLength: 64 }))
      expect(outcomes.get('UNKNOWN_MESSAGE')).toBeGreaterThan(0)
      expect(outcomes.get('BAD_MESSAGE')).toBeGreaterThan(0)
    },
    TIMEOUT_MS,
  )

  it(
    'handles random bytes after a known tag',
    () => {
      const frames = fc
        .tuple(knownTag, fc.uint8Array({ maxLength: 64 }))
        .map(([tag, rest]) => Uint8Array.from([tag, ...rest]))
      expect(checkFrames(frames).get('BAD_MESSAGE')).toBeGreaterThan(0)
    },
    TIMEOUT_MS,
  )

  it(
    'either decodes and re-encodes byte for byte, or rejects, a mutated fixture',
    () => {
      const outcomes = checkFrames(mutatedFixture)
      expect(outcomes.get('decoded')).toBeGreaterThan(0)
      expect(outcomes.get('BAD_MESSAGE')).toBeGreaterThan(0)
    },
    TIMEOUT_MS,
  )

  it(
    'rejects byte fields that claim more bytes than the frame holds',
    () => {
      expect(checkFrames(hugeClaimedLength)).toEqual(new Map([['BAD_MESSAGE', SAMPLES]]))
    },
    TIMEOUT_MS,
  )

  it(
    'rejects byte lists whose count exceeds the bytes left',
    () => {
      expect(checkFrames(hugeClaimedCount)).toEqual(new Map([['BAD_MESSAGE', SAMPLES]]))
    },
    TIMEOUT_MS,
  )

  it(
    'either decodes and re-encodes byte for byte, or rejects, a nearly valid byte list',
    () => {
      const outcomes = checkFrames(nearlyValidList)
      expect(outcomes.get('decoded')).toBeGreaterThan(0)
      expect(outcomes.get('BAD_MESSAGE')).toBeGreaterThan(0)
      expect(outcomes.has('UNKNOWN_MESSAGE')).toBe(false)
    },
    TIMEOUT_MS,
  )

  it(
    'rejects varUints longer than 8 bytes',
    () => {
      expect(checkFrames(overlongVarUint)).toEqual(new Map([['BAD_MESSAGE', SAMPLES]]))
    },
    TIMEOUT_MS,
  )

  it(
    'accepts exactly the valid UTF-8 strings',
    () => {
      const outcomes = checkFrames(randomUtf8)
      expect(outcomes.get('decoded')).toBeGreaterThan(0)
      expect(outcomes.get('BAD_MESSAGE')).toBeGreaterThan(0)
      expect(outcomes.has('UNKNOWN_MESSAGE')).toBe(false)
    },
    TIMEOUT_MS,
  )
})
