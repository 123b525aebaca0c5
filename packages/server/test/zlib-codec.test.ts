/** The relay's node:zlib codec speaks the clients' fflate format both ways, and is as strict. */
import {
  compressFrame,
  decodeMessage,
  encodeMessage,
  expandFrame,
  FFLATE_CODEC,
  type CompressedMessage,
} from '@weft/protocol'
import { describe, expect, it } from 'vitest'
import { ZLIB_CODEC } from '../src/zlib-codec.js'

const frame = encodeMessage({
  type: 'update',
  doc: 'notes',
  ref: 1,
  update: new TextEncoder().encode('lorem ipsum dolor sit amet '.repeat(5_000)),
})

const compressedWith = (codec: typeof ZLIB_CODEC): CompressedMessage => {
  const message = decodeMessage(compressFrame(frame, 2, 1024, codec))
  if (message.type !== 'compressed') throw new Error('not compressed')
  return message
}

describe('ZLIB_CODEC', () => {
  it('inflates what fflate deflates, and the other way round', () => {
    expect(expandFrame(compressedWith(FFLATE_CODEC), 1 << 20, ZLIB_CODEC)).toEqual(frame)
    expect(expandFrame(compressedWith(ZLIB_CODEC), 1 << 20, FFLATE_CODEC)).toEqual(frame)
    expect(compressedWith(ZLIB_CODEC).payload.length).toBeLessThan(frame.length / 10)
  })

  it('refuses what does not inflate to exactly its size, or is over the limit', () => {
    const good = compressedWith(ZLIB_CODEC)
    const expand =
      (message: CompressedMessage, limit = 1 << 20) =>
      () =>
        expandFrame(message, limit, ZLIB_CODEC)
    const bad = expect.objectContaining({ code: 'BAD_MESSAGE' })
    expect(expand({ ...good, size: good.size - 1 })).toThrow(bad)
    expect(expand({ ...good, size: good.size + 1 })).toThrow(bad)
    expect(expand({ ...good, payload: good.payload.subarray(0, 20) })).toThrow(bad)
    expect(expand({ type: 'compressed', size: 10, payload: Uint8Array.of(1, 2, 3) })).toThrow(bad)
    expect(expand(good, good.size - 1)).toThrow(
      expect.objectContaining({ code: 'MESSAGE_TOO_BIG' }),
    )
  })
})
