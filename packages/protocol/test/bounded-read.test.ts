import * as decoding from 'lib0/decoding'
import { describe, expect, it } from 'vitest'
import { readCheckedVarBytes, readCheckedVarUint, WeftError } from '../src/index.js'
import { fromHex } from './golden-fixtures.js'

const decoderOf = (hex: string): decoding.Decoder => decoding.createDecoder(fromHex(hex))

const readError = (read: () => unknown): WeftError => {
  try {
    read()
  } catch (error) {
    if (error instanceof WeftError) return error
    throw error
  }
  throw new Error('the read succeeded')
}

describe('readCheckedVarUint', () => {
  it('reads consecutive varUints and advances past each', () => {
    const decoder = decoderOf('7f8001ffffffffffffff0f')
    expect(readCheckedVarUint(decoder, 'a')).toBe(127)
    expect(readCheckedVarUint(decoder, 'b')).toBe(128)
    expect(readCheckedVarUint(decoder, 'c')).toBe(Number.MAX_SAFE_INTEGER)
    expect(decoder.pos).toBe(11)
  })

  it.each([
    ['empty input', '', /nonce is truncated/],
    ['a missing last byte', '80', /nonce is truncated/],
    ['2^53', '8080808080808010', /nonce is out of range/],
    ['a 9-byte number', '808080808080808001', /nonce is out of range/],
    ['a zero-padded number', '8100', /nonce is not minimally encoded/],
  ])('throws BAD_MESSAGE naming the field on %s', (_, hex, message) => {
    const error = readError(() => readCheckedVarUint(decoderOf(hex), 'nonce'))
    expect(error.code).toBe('BAD_MESSAGE')
    expect(error.message).toMatch(message)
  })
})

describe('readCheckedVarBytes', () => {
  it('reads a length-prefixed copy and advances past it', () => {
    const decoder = decoderOf('03aabbcc00')
    const bytes = readCheckedVarBytes(decoder, 'update')
    expect(bytes).toStrictEqual(fromHex('aabbcc'))
    expect(bytes.buffer.byteLength).toBe(3)
    expect(readCheckedVarBytes(decoder, 'next')).toStrictEqual(new Uint8Array())
  })

  it('throws BAD_MESSAGE when the length runs past the end of the view', () => {
    const big = fromHex('03aabbcc')
    const decoder = decoding.createDecoder(big.subarray(0, 3))
    const error = readError(() => readCheckedVarBytes(decoder, 'update'))
    expect(error.code).toBe('BAD_MESSAGE')
    expect(error.message).toBe('BAD_MESSAGE: update is truncated (3 bytes, 2 left)')
  })
})
