import { describe, expect, it } from 'vitest'
import { decodeMessage, type OpenMessage } from '../src/index.js'
import { fromHex } from './golden-fixtures.js'

// The `open` golden fixture: doc "notes", stateVector 01 b9 60 02 (the last 4 bytes).
const openFrame = fromHex('02056e6f7465730401b96002')
const openMessage: OpenMessage = {
  type: 'open',
  doc: 'notes',
  stateVector: fromHex('01b96002'),
}

/** Copies `frame` into a larger buffer, surrounded by 0xee bytes, and returns the buffer and view. */
const embed = (frame: Uint8Array, offset: number): { big: Uint8Array; view: Uint8Array } => {
  const big = new Uint8Array(offset + frame.length + 16).fill(0xee)
  big.set(frame, offset)
  return { big, view: new Uint8Array(big.buffer, offset, frame.length) }
}

const stateVectorOf = (frame: Uint8Array): Uint8Array => {
  const message = decodeMessage(frame)
  if (message.type !== 'open') throw new Error(`expected open, got ${message.type}`)
  return message.stateVector
}

describe('byte fields decoded from a view into a larger buffer', () => {
  it('decodes a frame that is a view at an offset', () => {
    expect(decodeMessage(embed(openFrame, 10).view)).toStrictEqual(openMessage)
  })

  it('returns a byte field that owns a buffer of exactly its length', () => {
    const stateVector = stateVectorOf(embed(openFrame, 10).view)
    expect(stateVector.byteOffset).toBe(0)
    expect(stateVector.buffer.byteLength).toBe(4)
  })

  it('returns a copy that later writes to the frame do not change', () => {
    const { big, view } = embed(openFrame, 10)
    const stateVector = stateVectorOf(view)
    big.fill(0)
    expect(stateVector).toStrictEqual(fromHex('01b96002'))
  })

  it('does not read past the end of the view, even when the buffer continues', () => {
    // The view stops one byte short; the missing byte is right behind it in the buffer.
    const { view } = embed(openFrame, 10)
    const short = new Uint8Array(view.buffer, view.byteOffset, view.length - 1)
    expect(() => decodeMessage(short)).toThrow(expect.objectContaining({ code: 'BAD_MESSAGE' }))
  })

  it('copies out of a pooled Node Buffer (what ws delivers) instead of returning a view', () => {
    const frame = Buffer.from('02056e6f7465730401b96002', 'hex')
    expect(frame.buffer.byteLength).toBeGreaterThan(frame.length) // pooled allocation
    const stateVector = stateVectorOf(frame)
    expect(Buffer.isBuffer(stateVector)).toBe(false)
    expect(stateVector.buffer).not.toBe(frame.buffer)
    expect(stateVector.buffer.byteLength).toBe(4)
    frame.fill(0)
    expect(stateVector).toStrictEqual(fromHex('01b96002'))
  })
})

describe('byte-list items decoded from a view into a larger buffer', () => {
  // The `updates` golden fixture: doc "notes", ref 4, items of 16 and 7 bytes.
  const batchHex = '0e056e6f7465730402100101b96000040104626f647902686900070001b960010001'
  const items = [fromHex('0101b96000040104626f647902686900'), fromHex('0001b960010001')]

  const itemsOf = (frame: Uint8Array): Uint8Array[] => {
    const message = decodeMessage(frame)
    if (message.type !== 'updates') throw new Error(`expected updates, got ${message.type}`)
    return message.updates
  }

  it('decodes a frame that is a view at an offset', () => {
    expect(itemsOf(embed(fromHex(batchHex), 10).view)).toStrictEqual(items)
  })

  it('returns items that each own a buffer of exactly their length', () => {
    const { big, view } = embed(fromHex(batchHex), 10)
    const decoded = itemsOf(view)
    for (const [index, item] of decoded.entries()) {
      expect(item.byteOffset, `item ${index}`).toBe(0)
      expect(item.buffer.byteLength, `item ${index}`).toBe(items[index]?.length)
      expect(item.buffer).not.toBe(big.buffer)
    }
    // Not two views into one shared copy either: each item can be kept or sent on alone.
    expect(decoded[0]?.buffer).not.toBe(decoded[1]?.buffer)
  })

  it('returns copies that later writes to the frame do not change', () => {
    const { big, view } = embed(fromHex(batchHex), 10)
    const decoded = itemsOf(view)
    big.fill(0)
    expect(decoded).toStrictEqual(items)
  })

  it('does not read past the end of the view, even when the buffer continues', () => {
    // The last item stops one byte short; the missing byte is right behind the view.
    const { view } = embed(fromHex(batchHex), 10)
    const short = new Uint8Array(view.buffer, view.byteOffset, view.length - 1)
    expect(() => decodeMessage(short)).toThrow(expect.objectContaining({ code: 'BAD_MESSAGE' }))
  })

  it('copies items out of a pooled Node Buffer instead of returning views', () => {
    const frame = Buffer.from(batchHex, 'hex')
    expect(frame.buffer.byteLength).toBeGreaterThan(frame.length) // pooled allocation
    const decoded = itemsOf(frame)
    for (const item of decoded) {
      expect(Buffer.isBuffer(item)).toBe(false)
      expect(item.buffer).not.toBe(frame.buffer)
      expect(item.buffer.byteLength).toBe(item.length)
    }
    frame.fill(0)
    expect(decoded).toStrictEqual(items)
  })

  it('gives every empty item its own empty buffer', () => {
    const decoded = itemsOf(Uint8Array.from([0x0e, 0x01, 0x64, 0x00, 0x02, 0x00, 0x00]))
    expect(decoded).toStrictEqual([new Uint8Array(), new Uint8Array()])
    expect(decoded[0]?.buffer.byteLength).toBe(0)
    expect(decoded[0]?.buffer).not.toBe(decoded[1]?.buffer)
  })
})
