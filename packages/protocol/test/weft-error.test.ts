import { describe, expect, it } from 'vitest'
import {
  ERROR_CODES,
  errorCodeForHttpStatus,
  httpStatusForCode,
  isWeftError,
  WeftError,
} from '../src/index.js'

describe('WeftError', () => {
  it('carries its code, the close code and retry policy from the table, and its cause', () => {
    const cause = new RangeError('boom')
    const error = new WeftError('RATE_LIMITED', 'slow down', { cause })
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('WeftError')
    expect(error.code).toBe('RATE_LIMITED')
    expect(error.closeCode).toBe(4429)
    expect(error.retry).toBe('slow-retry')
    expect(error.cause).toBe(cause)
    expect(error.message).toBe('RATE_LIMITED: slow down')
  })

  it('reads close code and retry policy from ERROR_CODES for every code', () => {
    for (const code of Object.keys(ERROR_CODES) as (keyof typeof ERROR_CODES)[]) {
      const error = new WeftError(code, 'x')
      expect([error.closeCode, error.retry]).toEqual([
        ERROR_CODES[code].closeCode,
        ERROR_CODES[code].retry,
      ])
    }
  })

  it('has no cause unless given one', () => {
    expect('cause' in new WeftError('INTERNAL', 'x')).toBe(false)
  })
})

describe('isWeftError', () => {
  it('recognises a WeftError, optionally with a given code', () => {
    const error = new WeftError('TIMEOUT', 'no pong')
    expect(isWeftError(error)).toBe(true)
    expect(isWeftError(error, 'TIMEOUT')).toBe(true)
    expect(isWeftError(error, 'INTERNAL')).toBe(false)
  })

  it('rejects look-alikes that are not WeftErrors', () => {
    expect(isWeftError(new Error('TIMEOUT: no pong'))).toBe(false)
    expect(isWeftError({ name: 'WeftError', code: 'TIMEOUT' }, 'TIMEOUT')).toBe(false)
    expect(isWeftError(undefined)).toBe(false)
  })
})

describe('HTTP statuses of error codes', () => {
  it('maps each code to its status and each status back to a code with that status', () => {
    expect(httpStatusForCode('FORBIDDEN')).toBe(403)
    expect(httpStatusForCode('CURSOR_EXPIRED')).toBe(410)
    for (const status of [400, 401, 403, 404, 409, 410, 413, 429, 500, 503]) {
      expect(httpStatusForCode(errorCodeForHttpStatus(status))).toBe(status)
    }
    expect(errorCodeForHttpStatus(502)).toBe('UNAVAILABLE')
    expect(errorCodeForHttpStatus(418)).toBe('INVALID_ARGUMENT')
  })
})
