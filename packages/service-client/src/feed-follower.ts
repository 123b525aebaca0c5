/**
 * followFeed: the change feed followed forever — long-poll, hand over a batch, wait for the
 * consumer, read after its cursor — retrying what a retry can fix and stopping on what it cannot.
 */
import { WeftError } from '@weft/protocol'
import type { FeedEvent, FeedPage, ReadFeedOptions } from './api-types.js'
import { DEFAULT_FOLLOW_BACKOFF, followDelayMs, type FollowBackoff } from './follow-backoff.js'
import { checkCursor, checkDocPatterns, checkSignal } from './request-checks.js'
import { httpStatusOf } from './response-error.js'

/** A scheduled retry, as `onRetry` hears of it. */
export interface FollowRetry {
  /** Failed reads in a row so far (1 for the first failure after a success). */
  readonly attempt: number
  /** The wait before the next read, in ms. */
  readonly delayMs: number
  readonly error: WeftError
}

/** Options of `WeftServiceClient.follow`. */
export interface FollowOptions {
  /** Start after this cursor: the last one your consumer persisted. Default `'0'`: the oldest kept. */
  readonly after?: string
  /** Only documents matching one of these patterns (`boards/*`, `org/**`). Default: every one the token may read. */
  readonly docs?: readonly string[]
  /** Most events per batch, 1 to 1,000. Default 100. */
  readonly limit?: number
  /** How long each long poll waits for a change, 0 to 60,000 ms. Default 25,000. */
  readonly waitMs?: number
  /** Stops following: the read in flight is aborted and `follow` resolves. */
  readonly signal?: AbortSignal
  /**
   * Called with each batch, oldest first, and the cursor after it; the next read waits for the
   * returned promise. Persist `cursor` after processing `events` (at-least-once). Called with an
   * empty batch when only the cursor moved (past changes `docs` or the token filtered out). A
   * throw or rejection stops `follow`, which rejects with it.
   */
  readonly onEvents: (events: readonly FeedEvent[], cursor: string) => void | Promise<void>
  /** Told of each retry after a failed read (for logs and metrics). */
  readonly onRetry?: (retry: FollowRetry) => void
  /** Backoff settings. Default {@link DEFAULT_FOLLOW_BACKOFF}. */
  readonly backoff?: Partial<FollowBackoff>
  /** Jitter source in `[0, 1)`. Default `Math.random`. */
  readonly random?: () => number
  /** Waits `ms` (or less, when `signal` aborts). Default: a timer. Inject one in tests. */
  readonly sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>
}

/** What to do after a failed read. */
type Decision = 'retry' | 'slow-retry' | 'stop'

/**
 * Retry or stop, from the HTTP status: no answer (network, timeout), 5xx and 408 retry; 429
 * retries after a longer wait; 401 retries once when the token comes from a function (it is
 * asked again: a refresh); a failing token function retries; every other 4xx stops.
 */
const decide = (error: unknown, refreshable: boolean, after401: boolean): Decision => {
  if (!(error instanceof WeftError)) return 'stop'
  const status = httpStatusOf(error)
  if (status === undefined)
    return error.code === 'UNAVAILABLE' || error.code === 'UNAUTHORIZED' ? 'retry' : 'stop'
  if (status >= 500 || status === 408) return 'retry'
  if (status === 429) return 'slow-retry'
  if (status === 401 && refreshable && !after401) return 'retry'
  return 'stop'
}

const timerSleep = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted === true) return resolve()
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })

/** Checks the options of `follow`; a bad one throws `INVALID_ARGUMENT` naming it. */
const resolveFollow = (options: FollowOptions) => {
  const invalid = (message: string): WeftError => new WeftError('INVALID_ARGUMENT', message)
  if (typeof options !== 'object' || options === null)
    throw invalid('follow needs an options object')
  if (typeof options.onEvents !== 'function')
    throw invalid('follow options.onEvents must be a function')
  for (const name of ['onRetry', 'random', 'sleep'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw invalid(`follow options.${name} must be a function`)
    }
  }
  const backoff = { ...DEFAULT_FOLLOW_BACKOFF, ...options.backoff }
  for (const [name, value] of Object.entries(backoff)) {
    const min = name === 'slowRetryMs' ? 0 : 1
    if (!Number.isSafeInteger(value) || value < min) {
      throw invalid(`follow options.backoff.${name} must be an integer of ms from ${min}`)
    }
  }
  return {
    after: checkCursor(options.after ?? '0', 'follow options.after'),
    docs:
      options.docs === undefined
        ? undefined
        : checkDocPatterns(options.docs, 'follow options.docs'),
    signal: checkSignal(options.signal, 'follow options'),
    backoff,
    random: options.random ?? Math.random,
    sleep: options.sleep ?? timerSleep,
  }
}

/**
 * Follows the feed through `read` until `options.signal` aborts (see {@link FollowOptions}).
 * Limits and waits are validated by the first read (`INVALID_ARGUMENT`).
 */
export const followFeed = async (
  read: (options: ReadFeedOptions) => Promise<FeedPage>,
  options: FollowOptions,
  context: { readonly refreshableToken: boolean },
): Promise<void> => {
  const { after, docs, signal, backoff, random, sleep } = resolveFollow(options)
  const request: ReadFeedOptions = {
    limit: options.limit ?? 100,
    waitMs: options.waitMs ?? 25_000,
    ...(docs === undefined ? {} : { docs }),
    ...(signal === undefined ? {} : { signal }),
  }
  let cursor = after
  let failures = 0
  let after401 = false
  const stopped = (): boolean => signal?.aborted === true
  while (!stopped()) {
    let page: FeedPage
    try {
      page = await read({ ...request, after: cursor })
    } catch (error) {
      if (stopped()) return
      const decision = decide(error, context.refreshableToken, after401)
      if (decision === 'stop') throw error
      after401 = httpStatusOf(error) === 401
      failures += 1
      const delayMs = followDelayMs(backoff, failures, random, decision === 'slow-retry')
      options.onRetry?.({ attempt: failures, delayMs, error: error as WeftError })
      await sleep(delayMs, signal)
      continue
    }
    failures = 0
    after401 = false
    if (page.events.length > 0 || page.cursor !== cursor) {
      await options.onEvents(page.events, page.cursor)
      cursor = page.cursor
    }
  }
}
