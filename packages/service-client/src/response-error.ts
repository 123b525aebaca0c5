/** The WeftError a non-2xx answer of the relay stands for, and the HTTP status it came with. */
import { isErrorCode, WeftError, type ErrorCode } from '@weft/protocol'

/** HTTP status of each error this client created from an answer (the follower's retry input). */
const statuses = new WeakMap<WeftError, number>()

/** The code for a status when the body carries none (a proxy's page, an empty answer). */
const codeOfStatus = (status: number): ErrorCode => {
  switch (status) {
    case 401:
      return 'UNAUTHORIZED'
    case 403:
      return 'FORBIDDEN'
    case 404:
      return 'NOT_FOUND'
    case 409:
      return 'ALREADY_EXISTS'
    case 410:
      return 'CURSOR_EXPIRED'
    case 413:
      return 'MESSAGE_TOO_BIG'
    case 429:
      return 'RATE_LIMITED'
    case 500:
      return 'INTERNAL'
    default:
      return status >= 500 ? 'UNAVAILABLE' : 'INVALID_ARGUMENT'
  }
}

/**
 * The error for a non-2xx answer: the relay's `{ code, message }` when the body has a known code,
 * otherwise a code chosen from the status with the start of the body as the message.
 */
export const responseError = (status: number, bodyText: string): WeftError => {
  let code: ErrorCode = codeOfStatus(status)
  let message = `HTTP ${status}${bodyText.trim() === '' ? '' : `: ${bodyText.trim().slice(0, 200)}`}`
  try {
    const json = JSON.parse(bodyText) as { code?: unknown; message?: unknown } | null
    if (typeof json?.code === 'string' && isErrorCode(json.code)) {
      code = json.code
      // The relay's message already starts with "<CODE>: "; WeftError adds it again.
      const text = typeof json.message === 'string' ? json.message : message
      message = text.startsWith(`${code}: `) ? text.slice(code.length + 2) : text
    }
  } catch {
    // Not JSON: keep the status's code and the body text.
  }
  const error = new WeftError(code, message)
  statuses.set(error, status)
  return error
}

/** The HTTP status an error came with, or `undefined` when no answer arrived. */
export const httpStatusOf = (error: unknown): number | undefined =>
  error instanceof WeftError ? statuses.get(error) : undefined
