/** Validation of the arguments of WeftServiceClient's methods, before anything is sent. */
import { checkDocName, WeftError } from '@weft/protocol'
import type { ReadFeedOptions, WriteOptions } from './api-types.js'

const invalid = (message: string): WeftError => new WeftError('INVALID_ARGUMENT', message)

/** Most patterns one feed read may filter by (each is a query parameter). */
export const MAX_DOC_PATTERNS = 100

/** `name`, percent-encoded for a path segment; throws `BAD_DOC_NAME` for an invalid name. */
export const encodeDocName = (name: unknown): string => {
  if (typeof name !== 'string')
    throw new WeftError('BAD_DOC_NAME', 'the document name must be a string')
  const problem = checkDocName(name)
  if (problem !== undefined) throw problem
  return encodeURIComponent(name)
}

/** Checks a signal option (absent, or an AbortSignal). */
export const checkSignal = (signal: unknown, where: string): AbortSignal | undefined => {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalid(`${where}.signal must be an AbortSignal`)
  }
  return signal
}

/** Checks the options of a write: a correlation id the relay will keep (it replaces others). */
export const checkWriteOptions = (
  options: WriteOptions,
  where: string,
): { correlationId: string | undefined; signal: AbortSignal | undefined } => {
  if (typeof options !== 'object' || options === null) throw invalid(`${where} must be an object`)
  const { correlationId } = options
  if (
    correlationId !== undefined &&
    (typeof correlationId !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(correlationId))
  ) {
    throw invalid(`${where}.correlationId must be 1 to 256 printable ASCII characters, no spaces`)
  }
  return { correlationId, signal: checkSignal(options.signal, where) }
}

/** Checks bytes the relay needs non-empty (an update, a state vector). */
export const checkBytes = (value: unknown, name: string): Uint8Array => {
  if (!(value instanceof Uint8Array) || value.length === 0) {
    throw invalid(`${name} must be a non-empty Uint8Array`)
  }
  return value
}

/** Checks a cursor: the decimal string a feed page's `cursor` (or an event's `id`) is. */
export const checkCursor = (value: unknown, name: string): string => {
  if (
    typeof value !== 'string' ||
    !/^\d{1,16}$/.test(value) ||
    !Number.isSafeInteger(Number(value))
  ) {
    throw invalid(
      `${name} must be a cursor from the feed (a decimal string), got ${JSON.stringify(value)}`,
    )
  }
  return value
}

const integerIn = (value: unknown, name: string, min: number, max: number): number => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`)
  }
  return value
}

/** Checks document patterns: 1 to 100 non-empty strings. */
export const checkDocPatterns = (docs: unknown, name: string): readonly string[] => {
  if (
    !Array.isArray(docs) ||
    docs.length > MAX_DOC_PATTERNS ||
    !docs.every((pattern) => typeof pattern === 'string' && pattern.length > 0)
  ) {
    throw invalid(`${name} must be an array of at most ${MAX_DOC_PATTERNS} non-empty patterns`)
  }
  return docs as readonly string[]
}

/** The query of a feed read, from validated options. */
export const feedQuery = (options: ReadFeedOptions, where: string): URLSearchParams => {
  if (typeof options !== 'object' || options === null) throw invalid(`${where} must be an object`)
  const query = new URLSearchParams()
  if (options.after !== undefined) query.set('after', checkCursor(options.after, `${where}.after`))
  if (options.limit !== undefined) {
    query.set('limit', String(integerIn(options.limit, `${where}.limit`, 1, 1000)))
  }
  if (options.waitMs !== undefined) {
    query.set('wait', String(integerIn(options.waitMs, `${where}.waitMs`, 0, 60_000)))
  }
  if (options.docs !== undefined) {
    for (const pattern of checkDocPatterns(options.docs, `${where}.docs`)) {
      query.append('docs', pattern)
    }
  }
  checkSignal(options.signal, where)
  return query
}
