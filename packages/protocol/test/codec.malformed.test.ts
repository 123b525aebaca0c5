import { describe, expect, it } from 'vitest'
import {
  decodeMessage,
  encodeMessage,
  MAX_LIST_ITEMS,
  MAX_STRING_BYTES,
  WeftError,
  type ErrorCode,
} from '../src/index.js'
import { fixtures, fromHex } from './golden-fixtures.js'

const decodeError = (frame: Uint8Array): WeftError => {
  try {
    decodeMessage(frame)
  } catch (error) {
    if (error instanceof WeftError) return error
    throw error
  }
  throw new Error('decodeMessage accepted a malformed frame')
}

const expectCode = (frame: Uint8Array, code: ErrorCode): void => {
  expect(decodeError(frame).code).toBe(code)
}

/** A close frame whose doc field is the given raw bytes. */
const closeWithRawDoc = (doc: number[]): Uint8Array => Uint8Array.from([0x03, doc.length, ...doc])

describe('truncated and padded frames', () => {
  it('rejects an empty frame as BAD_MESSAGE', () => {
    expectCode(new Uint8Array(), 'BAD_MESSAGE')
  })

  it.each(fixtures)('rejects every strict prefix of $name as BAD_MESSAGE', ({ hex }) => {
    const frame = fromHex(hex)
    for (let length = 0; length < frame.length; length++) {
      expect(decodeError(frame.subarray(0, length)).code, `prefix of ${length} bytes`).toBe(
        'BAD_MESSAGE',
      )
    }
  })

  it.each(fixtures)('rejects $name followed by one trailing byte as BAD_MESSAGE', ({ hex }) => {
    const error = decodeError(fromHex(`${hex}00`))
    expect(error.code).toBe('BAD_MESSAGE')
    expect(error.message).toMatch(/1 trailing bytes/)
  })
})

describe('message tags', () => {
  it.each([
    ['19, the first unassigned tag', '13'],
    ['127', '7f0000'],
    ['128, a 2-byte tag', '8001'],
    ['2^53 - 1', 'ffffffffffffff0f'],
  ])('rejects tag %s as UNKNOWN_MESSAGE', (_, hex) => {
    expectCode(fromHex(hex), 'UNKNOWN_MESSAGE')
  })

  it('rejects a tag above 2^53 - 1 as BAD_MESSAGE, not UNKNOWN_MESSAGE', () => {
    expectCode(fromHex('8080808080808010'), 'BAD_MESSAGE')
  })
})

describe('varUint fields', () => {
  it('accepts 2^53 - 1, the largest safe integer, in 8 bytes', () => {
    expect(decodeMessage(fromHex('0cffffffffffffff0f'))).toEqual({
      type: 'ping',
      nonce: Number.MAX_SAFE_INTEGER,
    })
  })

  it.each([
    ['2^53', '0c8080808080808010'],
    ['2^56 - 1 (8 bytes, top byte without continuation bit)', '0cffffffffffffff7f'],
    ['9 bytes', '0c808080808080808001'],
    ['8 bytes of 0xff and no end', '0cffffffffffffffff'],
  ])('rejects a nonce of %s as BAD_MESSAGE', (_, hex) => {
    expectCode(fromHex(hex), 'BAD_MESSAGE')
  })

  it.each([
    ['a zero-padded 0', '0c8000'],
    ['a zero-padded 1', '0c818000'],
    ['a zero-padded tag', '8c0000'],
  ])('rejects %s as BAD_MESSAGE, so every accepted frame has one encoding', (_, hex) => {
    expect(decodeError(fromHex(hex)).message).toMatch(/BAD_MESSAGE: .* not minimally encoded/)
  })

  it('rejects a long run of continuation bytes ending in 0 without producing NaN', () => {
    const frame = Uint8Array.from([0x0c, ...new Array<number>(1000).fill(0x80), 0x00])
    expectCode(frame, 'BAD_MESSAGE')
  })

  it('rejects a megabyte of continuation bytes quickly', () => {
    const frame = new Uint8Array(1 << 20).fill(0x80)
    frame[0] = 0x0c
    expectCode(frame, 'BAD_MESSAGE')
  })
})

describe('string and byte fields', () => {
  it.each([
    ['a string', '03ffffffff0f41'],
    ['a byte field', '02056e6f746573ffffffffffffff0f00'],
    ['a string by one byte', '03056e6f7465'],
  ])('rejects a length that claims more than the frame holds, in %s', (_, hex) => {
    expect(decodeError(fromHex(hex)).message).toMatch(/BAD_MESSAGE: .* truncated/)
  })

  it.each([
    ['a lone continuation byte', [0x80]],
    ['0xff', [0xff]],
    ['an overlong NUL (c0 80)', [0xc0, 0x80]],
    ['an encoded surrogate (ed a0 80)', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a truncated 3-byte sequence', [0x41, 0xe6, 0x97]],
  ])('rejects invalid UTF-8: %s', (_, doc) => {
    const error = decodeError(closeWithRawDoc(doc))
    expect(error.code).toBe('BAD_MESSAGE')
    expect(error.message).toMatch(/not valid UTF-8/)
    expect(error.cause).toBeInstanceOf(TypeError)
  })

  it('keeps a leading byte-order mark as part of the string', () => {
    expect(decodeMessage(closeWithRawDoc([0xef, 0xbb, 0xbf, 0x41]))).toEqual({
      type: 'close',
      doc: '\uFEFFA',
    })
  })

  it('decodes a string of exactly MAX_STRING_BYTES and rejects one byte more', () => {
    const frameWithToken = (bytes: number): Uint8Array =>
      Uint8Array.from([0x0b, ...varUint(bytes), ...new Uint8Array(bytes).fill(0x61)])
    const atLimit = decodeMessage(frameWithToken(MAX_STRING_BYTES))
    expect(atLimit).toEqual({ type: 'refresh-token', token: 'a'.repeat(MAX_STRING_BYTES) })
    expect(decodeError(frameWithToken(MAX_STRING_BYTES + 1)).message).toMatch(
      new RegExp(`BAD_MESSAGE: .* over ${MAX_STRING_BYTES}`),
    )
  })

  it('does not cap byte fields at MAX_STRING_BYTES (the transport caps the frame)', () => {
    const size = MAX_STRING_BYTES + 1
    const frame = Uint8Array.from([0x07, 0x01, 0x64, ...varUint(size), ...new Uint8Array(size)])
    const message = decodeMessage(frame)
    expect(message.type === 'awareness' && message.update.length).toBe(size)
  })
})

describe('byte lists', () => {
  // An updates frame up to its list: tag 14, doc "d", ref 0. The list follows.
  const listFrame = (...list: number[]): Uint8Array =>
    Uint8Array.from([0x0e, 0x01, 0x64, 0x00, ...list])
  // The `updates` golden fixture: count 02, item 0 (length 0x10: 16 bytes), item 1 (07: 7 bytes).
  const batch = fromHex('0e056e6f7465730402100101b96000040104626f647902686900070001b960010001')

  it('accepts a count equal to the bytes left when every item is empty', () => {
    expect(decodeMessage(listFrame(0x03, 0x00, 0x00, 0x00))).toStrictEqual({
      type: 'updates',
      doc: 'd',
      ref: 0,
      updates: [new Uint8Array(), new Uint8Array(), new Uint8Array()],
    })
  })

  it.each([
    ['one more than the bytes left', [0x04, 0x00, 0x00, 0x00], 4],
    ['one item with nothing after it', [0x01], 1],
    ['2^31', [...varUint(2 ** 31), 0x00], 2 ** 31],
    ['2^40', [...varUint(2 ** 40), 0x00], 2 ** 40],
    ['2^53 - 1', [...varUint(Number.MAX_SAFE_INTEGER), 0x00, 0x00], Number.MAX_SAFE_INTEGER],
  ])('rejects a count of %s before reading any item', (_, list, count) => {
    // The message names the count, not an item: nothing was read or allocated per claimed item.
    const error = decodeError(listFrame(...list))
    expect(error.code).toBe('BAD_MESSAGE')
    expect(error.message).toBe(`BAD_MESSAGE: updates.updates claims ${count} items in fewer bytes`)
  })

  it('rejects huge counts in milliseconds, without allocating per claimed item', () => {
    const frames = [2 ** 28, 2 ** 32, 2 ** 40, 2 ** 52, Number.MAX_SAFE_INTEGER].map((count) =>
      listFrame(...varUint(count), 0x02, 0x00, 0x00),
    )
    for (const frame of frames) expect(decodeError(frame).code).toBe('BAD_MESSAGE')
    const heapBefore = process.memoryUsage().heapUsed
    const slowest = Math.max(
      ...frames.map((frame) => {
        const started = performance.now()
        decodeError(frame)
        return performance.now() - started
      }),
    )
    // A loop over 2^28 claimed items, or an array of that many slots, takes far longer than this.
    expect(slowest).toBeLessThan(20)
    // 2^28 preallocated slots alone would be 1 GiB or more.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024)
  })

  it.each([
    [
      'not in its shortest form',
      [0x81, 0x00, 0x00],
      /updates\.updates count is not minimally encoded/,
    ],
    [
      'above 2^53 - 1',
      [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10],
      /updates\.updates count is out of range/,
    ],
    ['cut short', [0x80], /updates\.updates count is truncated/],
  ])('rejects a count %s as BAD_MESSAGE', (_, list, message) => {
    expect(decodeError(listFrame(...list)).message).toMatch(message)
  })

  it('rejects an item cut off in the middle, naming the item', () => {
    // 3 of item 1's 7 bytes: the count and item 0 are fine, item 1's length is a lie.
    const cut = batch.subarray(0, batch.length - 4)
    const error = decodeError(cut)
    expect(error.code).toBe('BAD_MESSAGE')
    expect(error.message).toBe('BAD_MESSAGE: updates.updates[1] is truncated (7 bytes, 3 left)')
  })

  it('rejects an item length that claims more than the frame holds', () => {
    expect(decodeError(listFrame(0x01, 0xff, 0xff, 0x03, 0x00)).message).toMatch(
      /BAD_MESSAGE: updates\.updates\[0\] is truncated/,
    )
  })

  it('rejects a count one short of the items that follow: the last item is trailing bytes', () => {
    const understated = Uint8Array.from(batch)
    understated[8] = 0x01 // count 02 → 01
    expect(decodeError(understated).message).toBe('BAD_MESSAGE: updates has 8 trailing bytes')
  })

  it('rejects bytes after the last item as trailing bytes', () => {
    expect(decodeError(listFrame(0x01, 0x01, 0xaa, 0xbb)).message).toBe(
      'BAD_MESSAGE: updates has 1 trailing bytes',
    )
    expect(decodeError(listFrame(0x00, 0x00)).message).toBe(
      'BAD_MESSAGE: updates has 1 trailing bytes',
    )
  })
})

describe('decodeMessage arguments', () => {
  it.each([
    ['an ArrayBuffer', new ArrayBuffer(2)],
    ['an array of numbers', [0x0c, 0x00]],
    ['a string', '0c00'],
  ])('rejects %s as INVALID_ARGUMENT', (_, frame) => {
    expect(() => decodeMessage(frame as unknown as Uint8Array)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
  })
})

/** The lib0 varUint encoding of a small non-negative integer. */
function varUint(value: number): number[] {
  const bytes: number[] = []
  while (value > 0x7f) {
    bytes.push(0x80 | (value & 0x7f))
    value = Math.floor(value / 128)
  }
  bytes.push(value)
  return bytes
}

describe('list caps', () => {
  it('refuses a list of more than MAX_LIST_ITEMS empty items before decoding any', () => {
    const count = MAX_LIST_ITEMS + 1
    // tag 14, doc "d", ref 0, a 3-byte varUint count, then `count` empty items (one 00 each).
    const frame = new Uint8Array(3 + 1 + 3 + count)
    frame.set([0x0e, 0x01, 0x64, 0x00, 0x81, 0x80, 0x04])
    expect(() => decodeMessage(frame)).toThrow(/BAD_MESSAGE: .*over 65536/)
  })

  it('accepts exactly MAX_LIST_ITEMS items', () => {
    const message = {
      type: 'updates',
      doc: 'd',
      ref: 0,
      updates: Array.from({ length: MAX_LIST_ITEMS }, () => new Uint8Array()),
    } as const
    expect(
      decodeMessage(encodeMessage({ ...message, updates: [...message.updates] })),
    ).toMatchObject({ type: 'updates' })
  })
})
