import { describe, expect, it } from 'vitest'
import {
  ERROR_CODES,
  errorCodeForClose,
  isErrorCode,
  retryPolicyForClose,
  type ErrorCode,
} from '../src/index.js'

const codes = Object.keys(ERROR_CODES) as ErrorCode[]
const wireCodes = codes.filter((code) => ERROR_CODES[code].scope !== 'local')
const localCodes = codes.filter((code) => ERROR_CODES[code].scope === 'local')

describe('ERROR_CODES', () => {
  it('gives every code that travels its own close code', () => {
    const closeCodes = wireCodes.map((code) => ERROR_CODES[code].closeCode)
    expect(new Set(closeCodes).size).toBe(closeCodes.length)
  })

  it('uses only close codes an application may send: 4000-4999 or a registered 1xxx code', () => {
    for (const code of wireCodes) {
      const { closeCode } = ERROR_CODES[code]
      const sendable =
        (closeCode >= 4000 && closeCode <= 4999) || [1001, 1003, 1009, 1011].includes(closeCode)
      expect(sendable, `${code} ${closeCode}`).toBe(true)
    }
  })

  it('gives local codes close code 0, which no socket can send', () => {
    expect(localCodes).toEqual([
      'INVALID_ARGUMENT',
      'CLOSED',
      'LOCAL_STORE_FAILED',
      'DECRYPTION_FAILED',
      'NOT_FOUND',
      'ALREADY_EXISTS',
      'CURSOR_EXPIRED',
      'ORIGIN_NOT_ALLOWED',
    ])
    for (const code of localCodes) expect(ERROR_CODES[code].closeCode).toBe(0)
    expect(errorCodeForClose(0)).toBeUndefined()
  })

  it('has a known retry policy, scope and non-empty advice in every row', () => {
    for (const code of codes) {
      const info = ERROR_CODES[code]
      expect(['retry', 'refresh-token', 'slow-retry', 'stop']).toContain(info.retry)
      expect(['connection', 'document', 'local']).toContain(info.scope)
      expect(info.advice.length, code).toBeGreaterThan(10)
    }
  })

  it('pins the codes clients depend on', () => {
    const pick = (code: ErrorCode) => [ERROR_CODES[code].closeCode, ERROR_CODES[code].retry]
    expect(pick('BAD_MESSAGE')).toEqual([4400, 'stop'])
    expect(pick('UNAUTHORIZED')).toEqual([4401, 'refresh-token'])
    expect(pick('FORBIDDEN')).toEqual([4403, 'stop'])
    expect(pick('VERSION_UNSUPPORTED')).toEqual([4426, 'stop'])
    expect(pick('RATE_LIMITED')).toEqual([4429, 'slow-retry'])
    expect(pick('MESSAGE_TOO_BIG')).toEqual([1009, 'stop'])
    expect(pick('STORAGE_FAILED')).toEqual([1011, 'retry'])
  })
})

describe('close code lookups', () => {
  it.each(wireCodes)('maps the close code of %s back to it and to its retry policy', (code) => {
    const { closeCode, retry } = ERROR_CODES[code]
    expect(errorCodeForClose(closeCode)).toBe(code)
    expect(retryPolicyForClose(closeCode)).toBe(retry)
  })

  it.each([
    [1000, 'normal closure'],
    [1005, 'no status received'],
    [1006, 'abnormal drop'],
    [1012, 'service restart'],
    [3000, 'registered range'],
    [4000, 'unassigned private code'],
    [4999, 'unassigned private code'],
  ])('treats close code %i (%s), which Weft does not assign, as retry', (closeCode) => {
    expect(errorCodeForClose(closeCode)).toBeUndefined()
    expect(retryPolicyForClose(closeCode)).toBe('retry')
  })
})

describe('isErrorCode', () => {
  it.each(codes)('recognises %s', (code) => {
    expect(isErrorCode(code)).toBe(true)
  })

  it.each(['', 'bad_message', 'NOPE', 'toString', 'constructor', '__proto__'])(
    'rejects %j',
    (value) => {
      expect(isErrorCode(value)).toBe(false)
    },
  )
})
