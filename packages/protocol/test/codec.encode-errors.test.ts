import { describe, expect, it } from 'vitest'
import {
  encodeMessage,
  MAX_LIST_ITEMS,
  MAX_STRING_BYTES,
  WeftError,
  type WeftMessage,
} from '../src/index.js'

/** The WeftError encodeMessage throws for a message that is not well-typed at run time. */
const encodeError = (message: Record<string, unknown>): WeftError => {
  try {
    encodeMessage(message as unknown as WeftMessage)
  } catch (error) {
    if (error instanceof WeftError) return error
    throw error
  }
  throw new Error('encodeMessage accepted an invalid message')
}

describe('encodeMessage argument checks', () => {
  it.each([
    ['negative', -1],
    ['fractional', 1.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['2^53, beyond safe integers', 2 ** 53],
    ['a numeric string', '1'],
    ['a bigint', 1n],
    ['missing', undefined],
  ])('throws INVALID_ARGUMENT for a uint field that is %s', (_, nonce) => {
    const error = encodeError({ type: 'ping', nonce })
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toBe('INVALID_ARGUMENT: ping.nonce must be a non-negative safe integer')
  })

  it.each([
    ['a number', 42],
    ['null', null],
    ['missing', undefined],
    ['a String object', new String('notes')],
    ['a lone high surrogate', 'a\uD800b'],
    ['a lone low surrogate', '\uDC00'],
  ])('throws INVALID_ARGUMENT for a string field that is %s', (_, doc) => {
    const error = encodeError({ type: 'close', doc })
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toMatch(/^INVALID_ARGUMENT: close\.doc must be a string/)
  })

  it('accepts a surrogate pair, which is one well-formed code point', () => {
    expect(encodeMessage({ type: 'close', doc: '\uD83D\uDCDD' })).toEqual(
      Uint8Array.from([0x03, 0x04, 0xf0, 0x9f, 0x93, 0x9d]),
    )
  })

  it('throws INVALID_ARGUMENT for a string over MAX_STRING_BYTES UTF-8 bytes', () => {
    // 'é' is 2 bytes in UTF-8: half as many characters already reach the limit.
    const atLimit = 'é'.repeat(MAX_STRING_BYTES / 2)
    expect(encodeMessage({ type: 'refresh-token', token: atLimit }).length).toBe(
      1 + 3 + MAX_STRING_BYTES,
    )
    const error = encodeError({ type: 'refresh-token', token: `${atLimit}a` })
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toMatch(/refresh-token\.token is over 65536 UTF-8 bytes/)
  })

  it.each([
    ['a plain array', [1, 2]],
    ['an ArrayBuffer', new ArrayBuffer(2)],
    ['a DataView', new DataView(new ArrayBuffer(2))],
    ['a Uint16Array', new Uint16Array(2)],
    ['a hex string', '0102'],
    ['missing', undefined],
  ])('throws INVALID_ARGUMENT for a bytes field that is %s', (_, stateVector) => {
    const error = encodeError({ type: 'open', doc: 'notes', stateVector })
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toBe('INVALID_ARGUMENT: open.stateVector must be a Uint8Array')
  })

  const update = Uint8Array.of(0x00, 0x00)
  // The exact wording of the kind ("a array"/"an array") is not what these tests pin.
  const notAList = /^INVALID_ARGUMENT: updates\.updates must be an? dense array of Uint8Array$/

  it.each([
    ['a single Uint8Array', update],
    ['an array-like object', { length: 1, 0: update }],
    ['a Set of Uint8Array', new Set([update])],
    ['an iterator', [update].values()],
    ['a hex string', '0000'],
    ['null', null],
    ['missing', undefined],
  ])('throws INVALID_ARGUMENT for a bytes-list field that is %s', (_, updates) => {
    const error = encodeError({ type: 'updates', doc: 'notes', ref: 1, updates })
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toMatch(notAList)
  })

  it.each([
    ['a plain array of numbers', [update, [0, 0]]],
    ['an ArrayBuffer', [update, new ArrayBuffer(2)]],
    ['a Uint16Array', [new Uint16Array(2), update]],
    ['a DataView', [update, new DataView(new ArrayBuffer(2))]],
    ['a nested list', [[update]]],
    ['a hex string', [update, '0000']],
    ['undefined', [update, undefined]],
    ['null', [null]],
  ])('throws INVALID_ARGUMENT for a bytes-list item that is %s', (_, updates) => {
    const error = encodeError({ type: 'updates', doc: 'notes', ref: 1, updates })
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toMatch(notAList)
  })

  it.each([
    ['new Array(2)', new Array<Uint8Array>(2)],
    ['[update, , update]', [update, , update]],
  ])('throws INVALID_ARGUMENT for a sparse bytes-list %s', (_, updates) => {
    const error = encodeError({ type: 'updates', doc: 'notes', ref: 1, updates })
    expect(error.code).toBe('INVALID_ARGUMENT')
  })

  it('throws INVALID_ARGUMENT for a list over MAX_LIST_ITEMS, naming the cap', () => {
    const updates = Array.from({ length: MAX_LIST_ITEMS + 1 }, () => update)
    const error = encodeError({ type: 'updates', doc: 'notes', ref: 1, updates })
    expect(error.code).toBe('INVALID_ARGUMENT')
    expect(error.message).toContain(String(MAX_LIST_ITEMS))
  })

  it('accepts a Node Buffer as a bytes-list item and an empty list', () => {
    expect(
      encodeMessage({ type: 'updates', doc: 'd', ref: 1, updates: [Buffer.from([0xaa]), update] }),
    ).toEqual(Uint8Array.from([0x0e, 0x01, 0x64, 0x01, 0x02, 0x01, 0xaa, 0x02, 0x00, 0x00]))
    expect(encodeMessage({ type: 'updates', doc: 'd', ref: 0, updates: [] })).toEqual(
      Uint8Array.from([0x0e, 0x01, 0x64, 0x00, 0x00]),
    )
  })

  it('copies the items into the frame, so later changes to them do not show', () => {
    const item = Uint8Array.of(0x01, 0x02)
    const updates = [item]
    const frame = encodeMessage({ type: 'updates', doc: 'd', ref: 1, updates })
    item[0] = 0xff
    updates.push(item)
    expect(frame).toEqual(Uint8Array.from([0x0e, 0x01, 0x64, 0x01, 0x01, 0x02, 0x01, 0x02]))
  })

  it.each(['nope', 'toString', 'constructor', '__proto__', ''])(
    'throws INVALID_ARGUMENT for the unknown message type %j',
    (type) => {
      const error = encodeError({ type })
      expect(error.code).toBe('INVALID_ARGUMENT')
      expect(error.message).toMatch(/unknown message type/)
    },
  )

  it('ignores fields that are not part of the message', () => {
    const extra = { type: 'ping', nonce: 1, note: 'not on the wire' }
    expect(encodeMessage(extra as WeftMessage)).toEqual(Uint8Array.from([0x0c, 0x01]))
  })
})
