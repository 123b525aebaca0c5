/**
 * HTTP plumbing shared by the relay's HTTP routes: JSON and byte replies, `{ code, message }`
 * errors with a status per error code, bounded request bodies, bearer tokens.
 */
import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { httpStatusForCode, WeftError } from '@weft/protocol'

/** The HTTP status an error answers with (its code's row in the protocol's error table). */
export const httpStatusOf = (error: WeftError): number => httpStatusForCode(error.code)

/** Sends `body` as JSON (or as bytes when it is a Uint8Array; nothing when undefined). */
export const sendHttp = (
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void => {
  if (body instanceof Uint8Array) {
    response.writeHead(status, {
      ...headers,
      'content-type': 'application/octet-stream',
      'content-length': body.length,
      'cache-control': 'no-store',
    })
    response.end(body)
    return
  }
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'cache-control': 'no-store',
  })
  response.end(body === undefined ? '' : `${JSON.stringify(body)}\n`)
}

/** Answers with `{ code, message }` and the code's status; anything else is `INTERNAL`. */
export const sendHttpError = (
  response: ServerResponse,
  error: unknown,
  headers: Record<string, string> = {},
): void => {
  let coded =
    error instanceof WeftError ? error : new WeftError('INTERNAL', String(error), { cause: error })
  // A closed store or handle during a request means the relay is stopping: retry elsewhere.
  if (coded.code === 'CLOSED') coded = new WeftError('SHUTTING_DOWN', 'the relay is shutting down')
  if (response.headersSent) {
    response.destroy(coded)
    return
  }
  const retryAfter = coded.retry === 'retry' || coded.retry === 'slow-retry'
  sendHttp(
    response,
    httpStatusOf(coded),
    { code: coded.code, message: messageOf(coded) },
    // A Retry-After among `headers` (a rate limit's wait) wins over the default second.
    { ...(retryAfter ? { 'retry-after': '1' } : {}), ...headers },
  )
}

/** Reads the request body, refusing more than `limit` bytes with `MESSAGE_TOO_BIG`. */
export const readHttpBody = (request: IncomingMessage, limit: number): Promise<Uint8Array> =>
  new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? 0)
    if (declared > limit) {
      reject(new WeftError('MESSAGE_TOO_BIG', `the body is over ${limit} bytes`))
      request.resume()
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        reject(new WeftError('MESSAGE_TOO_BIG', `the body is over ${limit} bytes`))
        request.destroy()
        return
      }
      chunks.push(chunk)
    })
    request.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))))
    request.on('error', reject)
  })

/** Reads a JSON body; bad JSON is `INVALID_ARGUMENT`. */
export const readHttpJson = async (request: IncomingMessage, limit: number): Promise<unknown> => {
  const body = await readHttpBody(request, limit)
  try {
    return JSON.parse(new TextDecoder().decode(body)) as unknown
  } catch {
    throw new WeftError('INVALID_ARGUMENT', 'the body is not valid JSON')
  }
}

/** The token of an `Authorization: Bearer <token>` header, or `''`. */
export const bearerToken = (request: IncomingMessage): string => {
  const header = request.headers.authorization ?? ''
  return header.startsWith('Bearer ') ? header.slice(7).trim() : ''
}

/**
 * Whether `request` carries `Authorization: Bearer <token>`. Compares in constant time, so the
 * answer's timing does not tell how much of a guess was right.
 */
export const hasBearerToken = (request: IncomingMessage, token: string): boolean => {
  const header = request.headers.authorization ?? ''
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '')
  const expected = Buffer.from(token)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** A WeftError's message without its `CODE: ` prefix (the code travels on its own). */
export const messageOf = (error: WeftError): string =>
  error.message.startsWith(`${error.code}: `)
    ? error.message.slice(error.code.length + 2)
    : error.message
