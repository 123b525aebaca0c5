import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeMessage, encodeMessage, type WeftMessage } from '../src/index.js'
import { toHex } from './golden-fixtures.js'
import { anyMessageArbitrary, messageArbitrary, messageTypes } from './message-arbitraries.js'
import { chooseSeed } from '@weft/testkit'

const seed = chooseSeed('protocol round-trip')

const roundTripsExactly = (message: WeftMessage): void => {
  const frame = encodeMessage(message)
  const decoded = decodeMessage(frame)
  expect(decoded).toStrictEqual(message)
  expect(toHex(encodeMessage(decoded))).toBe(toHex(frame))
}

describe('encode → decode round trip', () => {
  it.each(messageTypes)('reproduces every arbitrary %s message exactly', (type) => {
    fc.assert(fc.property(messageArbitrary(type), roundTripsExactly), { seed, numRuns: 300 })
  })

  it('reproduces arbitrary messages of mixed types', () => {
    fc.assert(fc.property(anyMessageArbitrary, roundTripsExactly), { seed, numRuns: 1000 })
  })

  it('reproduces byte lists long enough for a 2-byte count', () => {
    const longLists = fc
      .tuple(
        messageArbitrary('updates'),
        fc.array(fc.uint8Array({ maxLength: 4 }), { minLength: 128, maxLength: 300 }),
      )
      .map(([message, updates]) => ({ ...message, updates }))
    fc.assert(
      fc.property(longLists, (message) => {
        roundTripsExactly(message)
        // The items (at most 4 bytes, so 1-byte lengths) end the frame; the count comes before.
        const frame = encodeMessage(message)
        const itemBytes = message.updates.reduce((sum, item) => sum + 1 + item.length, 0)
        const count = frame.subarray(frame.length - itemBytes - 2, frame.length - itemBytes)
        const { length } = message.updates
        expect([...count]).toEqual([0x80 | (length % 128), Math.floor(length / 128)])
      }),
      { seed, numRuns: 100 },
    )
  })

  it('decodes a concatenation of frames only one frame at a time', () => {
    // A frame carries no length prefix of its own: the transport delimits it. Two frames glued
    // together are one frame with trailing bytes.
    fc.assert(
      fc.property(anyMessageArbitrary, anyMessageArbitrary, (first, second) => {
        const a = encodeMessage(first)
        const glued = new Uint8Array([...a, ...encodeMessage(second)])
        expect(() => decodeMessage(glued)).toThrow(/BAD_MESSAGE: .* trailing bytes/)
      }),
      { seed, numRuns: 300 },
    )
  })
})
