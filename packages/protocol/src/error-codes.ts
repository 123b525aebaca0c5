/** The table of Weft error codes: close code, retry policy and the advice each one carries. */

/** What a client does after an error: reconnect with backoff, refresh its token first, wait longer, or give up. */
export type RetryPolicy = 'retry' | 'refresh-token' | 'slow-retry' | 'stop'

/**
 * Whether an error ends the whole connection, only one document on a multiplexed socket, or is
 * raised locally by an API call and never sent on the wire.
 */
export type ErrorScope = 'connection' | 'document' | 'local'

/** One row of the error table. */
export interface ErrorCodeInfo {
  /**
   * WebSocket close code used when the error ends a connection (and on the single-document
   * y-websocket dialect); 0 for local errors, which never travel.
   */
  readonly closeCode: number
  /** HTTP status of an HTTP API answer with this error (500 for codes no route answers with). */
  readonly httpStatus: number
  readonly retry: RetryPolicy
  readonly scope: ErrorScope
  /** What happened and what to do about it; shown to developers, never parsed. */
  readonly advice: string
}

/**
 * Every error code Weft emits. The close code and the retry policy are part of the protocol:
 * clients decide what to do from this table, never from message text.
 */
export const ERROR_CODES = {
  BAD_MESSAGE: {
    closeCode: 4400,
    httpStatus: 400,
    retry: 'stop',
    scope: 'connection',
    advice:
      'A frame could not be decoded (truncated or garbage bytes). Fix the sender; resending it will fail again.',
  },
  UNAUTHORIZED: {
    closeCode: 4401,
    httpStatus: 401,
    retry: 'refresh-token',
    scope: 'connection',
    advice:
      'The token is missing, invalid or expired. Get a fresh token and reconnect (or send refresh-token).',
  },
  REVOKED: {
    closeCode: 4402,
    httpStatus: 401,
    retry: 'stop',
    scope: 'connection',
    advice:
      'An operator revoked this token (or every token of its subject issued before then). Sign in again for a new token, then connect.',
  },
  FORBIDDEN: {
    closeCode: 4403,
    httpStatus: 403,
    retry: 'stop',
    scope: 'document',
    advice:
      'The token does not allow this document or this operation. Ask for a token with the right scope.',
  },
  BAD_DOC_NAME: {
    closeCode: 4404,
    httpStatus: 400,
    retry: 'stop',
    scope: 'document',
    advice:
      'Document names are 1 to 512 UTF-8 bytes of well-formed Unicode without control characters. Use a valid name.',
  },
  UNKNOWN_MESSAGE: {
    closeCode: 4405,
    httpStatus: 500,
    retry: 'stop',
    scope: 'connection',
    advice:
      'The message type is unknown to this relay. Upgrade the relay or use a protocol version it supports.',
  },
  TIMEOUT: {
    closeCode: 4408,
    httpStatus: 500,
    retry: 'retry',
    scope: 'connection',
    advice: 'The peer did not answer in time (hello, authentication or heartbeat). Reconnect.',
  },
  PROTOCOL_VIOLATION: {
    closeCode: 4409,
    httpStatus: 500,
    retry: 'stop',
    scope: 'connection',
    advice:
      'A message arrived in the wrong state (before hello, a second hello, or one only a relay sends). Fix the client.',
  },
  DOC_NOT_OPEN: {
    closeCode: 4410,
    httpStatus: 500,
    retry: 'retry',
    scope: 'document',
    advice:
      'A message named a document this socket has not opened, or one the relay closed. Open it (again).',
  },
  DOC_DELETED: {
    closeCode: 4412,
    httpStatus: 500,
    retry: 'stop',
    scope: 'document',
    advice:
      'An operator deleted the document. Opening it again starts a new one (with what this client still holds).',
  },
  BAD_UPDATE: {
    closeCode: 4422,
    httpStatus: 400,
    retry: 'stop',
    scope: 'document',
    advice: 'A Yjs update could not be decoded; it was not applied or stored. Fix the sender.',
  },
  SCHEMA_VIOLATION: {
    closeCode: 4423,
    httpStatus: 422,
    retry: 'stop',
    scope: 'document',
    advice:
      "An update broke the document's schema (the reason names record and field); nothing was applied. Write through the model, or update the relay's schema.",
  },
  DOC_TOO_LARGE: {
    closeCode: 4413,
    httpStatus: 413,
    retry: 'stop',
    scope: 'document',
    advice:
      "An edit would take the document over the relay's document-size limit (maxDocBytes); it was not applied. Split the content over several documents, or raise the limit on the relay.",
  },
  VERSION_UNSUPPORTED: {
    closeCode: 4426,
    httpStatus: 500,
    retry: 'stop',
    scope: 'connection',
    advice: 'No protocol version is supported by both sides. Upgrade the client or the relay.',
  },
  RATE_LIMITED: {
    closeCode: 4429,
    httpStatus: 429,
    retry: 'slow-retry',
    scope: 'connection',
    advice:
      'Too many messages, connections or HTTP requests from one address. Reconnect (or retry the request) after a longer wait; an HTTP answer says how long in Retry-After.',
  },
  TOO_MANY_DOCS: {
    closeCode: 4430,
    httpStatus: 500,
    retry: 'stop',
    scope: 'document',
    advice:
      'This socket has as many documents open as the relay allows. Close some, or use another connection.',
  },
  SLOW_CONSUMER: {
    closeCode: 4431,
    httpStatus: 500,
    retry: 'retry',
    scope: 'connection',
    advice: 'The connection did not read fast enough and its send buffer overflowed. Reconnect.',
  },
  MESSAGE_TOO_BIG: {
    closeCode: 1009,
    httpStatus: 413,
    retry: 'stop',
    scope: 'connection',
    advice:
      'A frame exceeded the relay maxMessageBytes. Split the change or raise the limit on the relay.',
  },
  UNSUPPORTED_DATA: {
    closeCode: 1003,
    httpStatus: 500,
    retry: 'stop',
    scope: 'connection',
    advice: 'Text frames are not part of the protocol. Send binary frames.',
  },
  SHUTTING_DOWN: {
    closeCode: 1001,
    httpStatus: 503,
    retry: 'retry',
    scope: 'connection',
    advice: 'The relay is shutting down. Reconnect; unsaved edits are still in your outbox.',
  },
  STORAGE_FAILED: {
    closeCode: 1011,
    httpStatus: 503,
    retry: 'retry',
    scope: 'connection',
    advice:
      'The relay could not write to its store; nothing unsaved was acknowledged. Reconnect later.',
  },
  UNAVAILABLE: {
    closeCode: 4503,
    httpStatus: 503,
    retry: 'retry',
    scope: 'document',
    advice: 'The document could not be loaded right now; it was not served empty. Retry later.',
  },
  INVALID_ARGUMENT: {
    closeCode: 0,
    httpStatus: 400,
    retry: 'stop',
    scope: 'local',
    advice:
      'An API was called with an invalid argument or option; the message names it. Fix the call.',
  },
  CLOSED: {
    closeCode: 0,
    httpStatus: 503,
    retry: 'stop',
    scope: 'local',
    advice: 'The client or document handle was closed. Open a new one.',
  },
  LOCAL_STORE_FAILED: {
    closeCode: 0,
    httpStatus: 500,
    retry: 'stop',
    scope: 'local',
    advice:
      'The device store failed to read or write; edits stay in memory and are still sent. Check storage.',
  },
  DECRYPTION_FAILED: {
    closeCode: 0,
    httpStatus: 500,
    retry: 'stop',
    scope: 'local',
    advice:
      'Local data did not decrypt with the keys given (wrong key, missing old key or tampering). Pass the right keys.',
  },
  NOT_FOUND: {
    closeCode: 0,
    httpStatus: 404,
    retry: 'stop',
    scope: 'local',
    advice:
      'The document, record or endpoint named does not exist (or was deleted). Check the name; write to create a document.',
  },
  ALREADY_EXISTS: {
    closeCode: 0,
    httpStatus: 409,
    retry: 'stop',
    scope: 'local',
    advice:
      'A record with that id already exists, so it was not created again. Read it, or update it instead.',
  },
  CURSOR_EXPIRED: {
    closeCode: 0,
    httpStatus: 410,
    retry: 'stop',
    scope: 'local',
    advice:
      'The change feed no longer holds events after this cursor (they left the retention window). Read the documents afresh, then follow the feed from its head.',
  },
  ORIGIN_NOT_ALLOWED: {
    closeCode: 0,
    httpStatus: 403,
    retry: 'stop',
    scope: 'local',
    advice:
      'A browser page from an origin the relay does not allow called its HTTP API. Add the origin to the relay allowedOrigins (--allowed-origins), or call from a server.',
  },
  INTERNAL: {
    closeCode: 4500,
    httpStatus: 500,
    retry: 'retry',
    scope: 'connection',
    advice: 'An unexpected relay error. Reconnect; report it if it persists.',
  },
} as const satisfies Record<string, ErrorCodeInfo>

/** A stable Weft error code, such as `BAD_MESSAGE`. */
export type ErrorCode = keyof typeof ERROR_CODES

const byCloseCode = new Map<number, ErrorCode>(
  (Object.keys(ERROR_CODES) as ErrorCode[])
    .filter((code) => ERROR_CODES[code].scope !== 'local')
    .map((code) => [ERROR_CODES[code].closeCode, code]),
)

/** The code a status stands for when an answer carries none (a proxy's page, an empty body). */
const CODE_FOR_STATUS = new Map<number, ErrorCode>(
  (
    [
      'INVALID_ARGUMENT',
      'UNAUTHORIZED',
      'FORBIDDEN',
      'NOT_FOUND',
      'ALREADY_EXISTS',
      'CURSOR_EXPIRED',
      'MESSAGE_TOO_BIG',
      'RATE_LIMITED',
      'INTERNAL',
      'UNAVAILABLE',
    ] as const
  ).map((code) => [ERROR_CODES[code].httpStatus, code]),
)

/** The HTTP status the relay's HTTP API answers an error code with. */
export const httpStatusForCode = (code: ErrorCode): number => ERROR_CODES[code].httpStatus

/**
 * The error code an HTTP status stands for when the answer names none: the code of that status
 * in {@link ERROR_CODES} (400 `INVALID_ARGUMENT`, 503 `UNAVAILABLE`…), otherwise `UNAVAILABLE`
 * for 5xx and `INVALID_ARGUMENT` for the rest.
 */
export const errorCodeForHttpStatus = (status: number): ErrorCode =>
  CODE_FOR_STATUS.get(status) ?? (status >= 500 ? 'UNAVAILABLE' : 'INVALID_ARGUMENT')

/** True when `value` is one of the codes in {@link ERROR_CODES}. */
export const isErrorCode = (value: string): value is ErrorCode => Object.hasOwn(ERROR_CODES, value)

/** The error code a WebSocket close code stands for, or `undefined` for codes Weft does not assign. */
export const errorCodeForClose = (closeCode: number): ErrorCode | undefined =>
  byCloseCode.get(closeCode)

/**
 * The retry policy for a WebSocket close code. Codes Weft does not assign (1000 normal, 1006
 * abnormal drop, proxies' own codes) are network events: retry with backoff.
 */
export const retryPolicyForClose = (closeCode: number): RetryPolicy => {
  const code = byCloseCode.get(closeCode)
  return code === undefined ? 'retry' : ERROR_CODES[code].retry
}
