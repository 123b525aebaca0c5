/** The WeftError a non-2xx answer of the relay stands for, and the HTTP status it came with. */
import { errorCodeForHttpStatus, isErrorCode, WeftError, type ErrorCode } from '@weft/protocol'

/** HTTP status of each error this client created from an answer (the follower's retry input). */
const statuses = new WeakMap<WeftError, number>()

/**
 * The error for a non-2xx answer: the relay's `{ code, message }` when the body has a known code,
 * otherwise a code chosen from the status with the start of the body as the message.
 */
export const responseError = (status: number, bodyText: string): WeftError => {
  let code: ErrorCode = errorCodeForHttpStatus(status)
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
