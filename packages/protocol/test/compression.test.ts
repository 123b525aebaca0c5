import { deflateSync } from 'fflate'
import { describe, expect, it } from 'vitest'
import {
  compressFrame,
  decodeMessage,
  encodeMessage,
  expandFrame,
  type CompressedMessage,
} from '../src/index.js'

/** An `update` frame whose update is `length` bytes of text-like content. */
const updateFrame = (length: number): Uint8Array => {
  const update = new TextEncoder()
    .encode('the quick brown fox jumps over the lazy dog '.repeat(length / 44 + 1))
    .slice(0, length)
  return encodeMessage({ type: 'update', doc: 'notes', ref: 7, update })
}

const compressed = (size: number, frame: Uint8Array): CompressedMessage => ({
  type: 'compressed',
  size,
  payload: deflateSync(frame),
})

describe('compressFrame and expandFrame', () => {
  it('deflate a large frame for a version 2 peer, and inflate it to the same bytes', () => {
    const frame = updateFrame(100_000)
    const sent = compressFrame(frame, 2)
    expect(sent.length).toBeLessThan(frame.length / 10)
    const message = decodeMessage(sent)
    expect(message.type).toBe('compressed')
    expect(expandFrame(message as CompressedMessage, 1 << 20)).toEqual(frame)
  })

  it('leave a frame as it is for a version 1 peer, under the threshold, or when it does not shrink', () => {
    const frame = updateFrame(100_000)
    expect(compressFrame(frame, 1)).toBe(frame)
    expect(compressFrame(frame, 2, null)).toBe(frame)
    expect(compressFrame(updateFrame(60_000), 2)).toEqual(updateFrame(60_000))
    const noise = encodeMessage({
      type: 'update',
      doc: 'notes',
      ref: 1,
      update: Uint8Array.from({ length: 100_000 }, () => Math.floor(Math.random() * 256)),
    })
    expect(compressFrame(noise, 2)).toBe(noise)
  })

  it('refuse a frame over the limit before inflating it', () => {
    const frame = updateFrame(100_000)
    expect(() => expandFrame(compressed(frame.length, frame), 9_999)).toThrow(
      expect.objectContaining({ code: 'MESSAGE_TOO_BIG' }),
    )
  })

  it('refuse a payload that does not inflate, or not to exactly its size', () => {
    const frame = updateFrame(2_000)
    const bad = (message: CompressedMessage) => () => expandFrame(message, 1 << 20)
    const badMessage = expect.objectContaining({ code: 'BAD_MESSAGE' })
    expect(bad({ type: 'compressed', size: 10, payload: Uint8Array.of(1, 2, 3) })).toThrow(
      badMessage,
    )
    expect(bad(compressed(frame.length - 1, frame))).toThrow(badMessage)
    expect(bad(compressed(frame.length + 1, frame))).toThrow(badMessage)
  })

  it('refuse a compressed frame inside another', () => {
    const inner = compressFrame(updateFrame(100_000), 2)
    expect(() => expandFrame(compressed(inner.length, inner), 1 << 20)).toThrow(
      expect.objectContaining({ code: 'BAD_MESSAGE', message: expect.stringMatching(/another/) }),
    )
  })
})
