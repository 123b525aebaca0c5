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
