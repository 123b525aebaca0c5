/**
 * relayRequest: one HTTP call to the relay's `/v1` API — token, correlation id, deadline and
 * abort — answering the 2xx response or throwing the WeftError the failure stands for.
 */
import { WeftError } from '@weft/protocol'
import { responseError } from './response-error.js'
import type { ResolvedServiceClientOptions } from './service-client-options.js'

/** One request. */
export interface RelayRequest {
  readonly method: 'GET' | 'POST'
  /** Path under the base URL, starting with `/v1/`, already percent-encoded. */
  readonly path: string
  readonly query?: URLSearchParams
  readonly body?: Uint8Array | string
  readonly contentType?: string
  readonly correlationId?: string | undefined
  readonly signal?: AbortSignal | undefined
  /** Added to the client's `timeoutMs` (a long-poll's wait). */
  readonly extraTimeoutMs?: number
}

/** A 2xx answer with its body read. */
export interface RelayAnswer<T> {
  readonly body: T
  readonly headers: Headers
}

/** Performs `request`, reading the body with `read` inside the same deadline. */
export const relayRequest = async <T>(
  options: ResolvedServiceClientOptions,
  request: RelayRequest,
  read: (response: Response) => Promise<T>,
): Promise<RelayAnswer<T>> => {
  const { signal } = request
  if (signal?.aborted === true) throw aborted(signal)
  const headers: Record<string, string> = { accept: 'application/json, application/octet-stream' }
  const token = await tokenOf(options)
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`
  if (request.contentType !== undefined) headers['content-type'] = request.contentType
  if (request.correlationId !== undefined) headers['x-correlation-id'] = request.correlationId
  const timeoutMs = options.timeoutMs + (request.extraTimeoutMs ?? 0)
  const deadline = AbortSignal.timeout(timeoutMs)
  const combined = signal === undefined ? deadline : AbortSignal.any([signal, deadline])
  const query = request.query?.toString() ?? ''
  const url = `${options.baseUrl}${request.path}${query === '' ? '' : `?${query}`}`
  const fetchImpl = options.fetch
  try {
    const response = await fetchImpl(url, {
      method: request.method,
      headers,
      signal: combined,
      // A view on a SharedArrayBuffer is not a BodyInit; updates from Yjs never are.
      ...(request.body === undefined ? {} : { body: request.body as BodyInit }),
    })
    if (!response.ok) throw responseError(response.status, await response.text())
    return { body: await read(response), headers: response.headers }
  } catch (error) {
    if (error instanceof WeftError) throw error
    if (isAborted(signal)) throw aborted(signal as AbortSignal)
    const what = deadline.aborted
      ? `no answer within ${timeoutMs} ms`
      : `the request failed (${describe(error)})`
    throw new WeftError('UNAVAILABLE', `${request.method} ${request.path}: ${what}`, {
      cause: error,
    })
  }
}

/** The bearer token for one request: asked of the token function each time. */
const tokenOf = async (options: ResolvedServiceClientOptions): Promise<string | undefined> => {
  const { token } = options
  if (typeof token !== 'function') return token
  let value: unknown
  try {
    value = await token()
  } catch (error) {
    throw new WeftError('UNAUTHORIZED', `options.token() failed: ${describe(error)}`, {
      cause: error,
    })
  }
  if (typeof value !== 'string' || value.length === 0) {
    throw new WeftError('UNAUTHORIZED', 'options.token() must return a non-empty string')
  }
  return value
}

/** Read through a call, so TypeScript does not keep an earlier check's narrowing. */
const isAborted = (signal: AbortSignal | undefined): boolean => signal?.aborted === true

const aborted = (signal: AbortSignal): WeftError =>
  new WeftError('CLOSED', 'the request was aborted by its signal', { cause: signal.reason })

/** A network error's most telling part: undici puts the system code (ECONNREFUSED) in `cause`. */
const describe = (error: unknown): string => {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause
  if (typeof cause?.code === 'string') return cause.code
  if (typeof cause?.message === 'string') return cause.message
  return error instanceof Error ? error.message : String(error)
}
