/** WeftServiceClient: a backend service's typed client of the relay's `/v1` HTTP API. */
import { WeftError } from '@weft/protocol'
import type {
  DocumentRead,
  FeedEvent,
  FeedPage,
  ReadFeedOptions,
  RecordChange,
  RecordsSaved,
  WriteOptions,
  WriteSaved,
} from './api-types.js'
import { decodeBase64, encodeBase64Url } from './base64.js'
import { feedEventProblem } from './feed-event-check.js'
import { followFeed, type FollowOptions } from './feed-follower.js'
import { checkRecordChanges } from './record-change-checks.js'
import { relayRequest, type RelayRequest } from './relay-request.js'
import {
  checkBytes,
  checkSignal,
  checkWriteOptions,
  encodeDocName,
  feedQuery,
} from './request-checks.js'
import {
  resolveServiceClientOptions,
  type ResolvedServiceClientOptions,
  type ServiceClientOptions,
} from './service-client-options.js'

/**
 * The relay's HTTP API for backend services: read documents as JSON or Yjs bytes, write Yjs
 * updates or record changes (answered once on the relay's disk), read and follow the change
 * feed. Every method validates its arguments first (`INVALID_ARGUMENT`, `BAD_DOC_NAME`); an
 * error answer becomes a `WeftError` with the relay's code; no answer (network, timeout) is
 * `UNAVAILABLE`; an aborted signal is `CLOSED`.
 */
export class WeftServiceClient {
  readonly #options: ResolvedServiceClientOptions

  /** Validates `options` at once; a bad one throws `INVALID_ARGUMENT` naming it. */
  constructor(options: ServiceClientOptions) {
    this.#options = resolveServiceClientOptions(options)
  }

  /**
   * The document as JSON: `model` (records through its schema) when the relay has a schema for
   * it, else `content`; `raw: true` asks for `content` either way. `NOT_FOUND` when nothing was
   * ever written to it, `FORBIDDEN` outside the token's scope.
   */
  async getDocument(
    name: string,
    options: { readonly raw?: boolean; readonly signal?: AbortSignal } = {},
  ): Promise<DocumentRead> {
    const path = `/v1/docs/${encodeDocName(name)}`
    if (options.raw !== undefined && typeof options.raw !== 'boolean') {
      throw new WeftError('INVALID_ARGUMENT', 'getDocument options.raw must be a boolean')
    }
    const query = new URLSearchParams(options.raw === true ? { view: 'raw' } : {})
    const signal = checkSignal(options.signal, 'getDocument options')
    const { body } = await this.#json({ method: 'GET', path, query, signal })
    const json = body as { name?: unknown; stateVector?: unknown; model?: unknown }
    if (typeof json?.name !== 'string' || typeof json.stateVector !== 'string') {
      throw malformed(`GET ${path}`, 'no name or stateVector')
    }
    const stateVector = decodeBase64(json.stateVector, 'stateVector')
    return { ...(body as DocumentRead), stateVector }
  }

  /**
   * The document as one Yjs update, or only what a replica at `since` (an encoded state vector,
   * `Y.encodeStateVector(doc)`) lacks. `NOT_FOUND` for a document nobody wrote, `BAD_MESSAGE`
   * when `since` is not a state vector.
   */
  async getUpdate(
    name: string,
    since?: Uint8Array,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<Uint8Array> {
    const path = `/v1/docs/${encodeDocName(name)}/update`
    const query = new URLSearchParams()
    if (since !== undefined) query.set('since', encodeBase64Url(checkBytes(since, 'since')))
    const signal = checkSignal(options.signal, 'getUpdate options')
    const { body } = await relayRequest(
      this.#options,
      { method: 'GET', path, query, signal },
      async (response) => new Uint8Array(await response.arrayBuffer()),
    )
    return body
  }

  /**
   * Applies a Yjs (v1) update to the document, as the token's subject; resolves once it is on
   * the relay's disk. `BAD_UPDATE` for bytes that are not an update, `FORBIDDEN` for a read-only
   * token (or one whose `types` do not cover what it touches), `MESSAGE_TOO_BIG` over the
   * relay's body limit (16 MiB by default).
   */
  async postUpdate(
    name: string,
    update: Uint8Array,
    options: WriteOptions = {},
  ): Promise<WriteSaved> {
    const path = `/v1/docs/${encodeDocName(name)}/update`
    const body = checkBytes(update, 'update')
    const write = checkWriteOptions(options, 'postUpdate options')
    const { saved, stateVector, correlationId } = await this.#write({
      method: 'POST',
      path,
      body,
      contentType: 'application/octet-stream',
      ...write,
    })
    return { saved, stateVector, correlationId }
  }

  /**
   * Applies record changes (see {@link RecordChange}) in one transaction, all or nothing, through
   * the relay's schema for the document; resolves once on disk with the ids of created records.
   * `INVALID_ARGUMENT` for a bad change, a field the schema refuses or a document without a
   * schema; `NOT_FOUND` for a missing record; `ALREADY_EXISTS` for a `create` of an existing id;
   * `FORBIDDEN` outside the token's scope. The message names the change (`changes[2]: …`).
   */
  async changeRecords(
    name: string,
    changes: readonly RecordChange[],
    options: WriteOptions = {},
  ): Promise<RecordsSaved> {
    const path = `/v1/docs/${encodeDocName(name)}/records`
    const body = JSON.stringify({ changes: checkRecordChanges(changes) })
    const write = checkWriteOptions(options, 'changeRecords options')
    const saved = await this.#write({
      method: 'POST',
      path,
      body,
      contentType: 'application/json',
      ...write,
    })
    const { created } = saved.json as { created?: unknown }
    if (!Array.isArray(created) || !created.every((id) => typeof id === 'string')) {
      throw malformed(`POST ${path}`, 'no created ids')
    }
    return {
      saved: true,
      stateVector: saved.stateVector,
      correlationId: saved.correlationId,
      created,
    }
  }

  /**
   * One page of the change feed after `after` (see {@link ReadFeedOptions}): only documents the
   * token may read and `docs` matches. With `waitMs`, an empty page waits that long for a change
   * (a long poll; the request's timeout grows by `waitMs`). `CURSOR_EXPIRED` when retention
   * removed changes after `after`; `NOT_FOUND` when the relay keeps no feed.
   */
  async readFeed(options: ReadFeedOptions = {}): Promise<FeedPage> {
    const query = feedQuery(options, 'readFeed options')
    const request = {
      method: 'GET',
      path: '/v1/feed',
      query,
      signal: options.signal,
      extraTimeoutMs: options.waitMs ?? 0,
    } as const
    const { body } = await this.#json(request)
    const page = body as { events?: unknown; cursor?: unknown; head?: unknown } | null
    if (
      !Array.isArray(page?.events) ||
      typeof page.cursor !== 'string' ||
      typeof page.head !== 'string'
    ) {
      throw malformed('GET /v1/feed', 'no events, cursor or head')
    }
    page.events.forEach((event: unknown, index) => {
      const problem = feedEventProblem(event)
      if (problem !== undefined) throw malformed('GET /v1/feed', `events[${index}]${problem}`)
    })
    return { events: page.events as FeedEvent[], cursor: page.cursor, head: page.head }
  }

  /**
   * The newest position of the feed: a cursor from which following sees only changes made
   * from now on (after `CURSOR_EXPIRED`, read the documents afresh, then follow from here).
   */
  async feedHead(options: { readonly signal?: AbortSignal } = {}): Promise<string> {
    const signal = checkSignal(options.signal, 'feedHead options')
    const { body } = await this.#json({
      method: 'GET',
      path: '/v1/feed/head',
      signal,
      extraTimeoutMs: 0,
    })
    const head = (body as { head?: unknown } | null)?.head
    if (typeof head !== 'string') throw malformed('GET /v1/feed/head', 'no head')
    return head
  }

  /**
   * Follows the feed forever (see {@link FollowOptions}): long-polls, hands each batch and the
   * cursor after it to `onEvents`, retries network and 5xx failures with exponential backoff and
   * full jitter. Resolves when `signal` aborts; rejects with the `WeftError` that stopped it
   * (`CURSOR_EXPIRED`, `FORBIDDEN`, …) or with what `onEvents` threw.
   */
  follow(options: FollowOptions): Promise<void> {
    return followFeed((read) => this.readFeed(read), options, {
      refreshableToken: typeof this.#options.token === 'function',
    })
  }

  async #json(request: RelayRequest): Promise<{ body: unknown; headers: Headers }> {
    return relayRequest(this.#options, request, async (response) => {
      const text = await response.text()
      try {
        return JSON.parse(text) as unknown
      } catch (error) {
        throw new WeftError(
          'BAD_MESSAGE',
          `${request.method} ${request.path}: the relay's answer is not JSON`,
          { cause: error },
        )
      }
    })
  }

  async #write(request: RelayRequest): Promise<WriteSaved & { json: Record<string, unknown> }> {
    const { body, headers } = await this.#json(request)
    const json = body as { saved?: unknown; stateVector?: unknown } | null
    if (json?.saved !== true || typeof json.stateVector !== 'string') {
      throw malformed(`${request.method} ${request.path}`, 'no saved or stateVector')
    }
    return {
      saved: true,
      stateVector: decodeBase64(json.stateVector, 'stateVector'),
      correlationId: headers.get('x-correlation-id') ?? request.correlationId ?? '',
      json,
    }
  }
}

/** The relay answered 2xx with JSON that is not what the route returns. */
const malformed = (route: string, problem: string): WeftError =>
  new WeftError('BAD_MESSAGE', `${route}: the relay's answer is malformed (${problem})`)
