/** WeftError: the one error type of every Weft package, carrying a code from the error table. */
import { ERROR_CODES, type ErrorCode, type RetryPolicy } from './error-codes.js'

/** An error with a stable {@link ErrorCode}; its close code and retry policy come from the table. */
export class WeftError extends Error {
  override readonly name = 'WeftError'
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options)
    this.code = code
  }

  /** The WebSocket close code for this error. */
  get closeCode(): number {
    return ERROR_CODES[this.code].closeCode
  }

  /** What a client should do after this error. */
  get retry(): RetryPolicy {
    return ERROR_CODES[this.code].retry
  }
}

/** True when `error` is a {@link WeftError}, optionally with the given code. */
export const isWeftError = (error: unknown, code?: ErrorCode): error is WeftError =>
  error instanceof WeftError && (code === undefined || error.code === code)
