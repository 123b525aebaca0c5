import { isWeftError, WeftServiceClient, type FollowRetry } from '@weft/service-client'
import { describe, expect, it } from 'vitest'

/** One scripted answer of the fake relay: a status and JSON body, or a network failure. */
type Answer = { status: number; body: unknown } | 'network-error'

const feedPage = (ids: number[], cursor: number) => ({
  status: 200,
  body: {
    events: ids.map((id) => ({
      id: String(id),
      position: id,
      doc: 'jobs/1',
      seq: id,
      kind: 'update',
      author: 'ana',
      correlationId: '',
      receivedAtMs: 1,
      bytes: 10,
      events: [],
    })),
    cursor: String(cursor),
    head: String(cursor),
  },
})

const unavailable = { status: 503, body: { code: 'STORAGE_FAILED', message: 'disk' } }

/**
 * A follower over a fake fetch that plays `answers` in order; once they run out it aborts, so
 * `follow` resolves. Records the `after` of each request, the sleeps and the retries.
 */
const runFollower = async (
  answers: Answer[],
  options: { token?: () => string; random?: () => number } = {},
) => {
  const stop = new AbortController()
  const afters: string[] = []
  const sleeps: number[] = []
  const retries: FollowRetry[] = []
  const batches: Array<{ ids: string[]; cursor: string }> = []
  const fakeFetch = async (input: string | URL | Request): Promise<Response> => {
    afters.push(new URL(String(input)).searchParams.get('after') ?? '')
    const answer = answers.shift()
    if (answer === undefined) {
      stop.abort()
      throw new DOMException('aborted', 'AbortError')
    }
    if (answer === 'network-error') throw new TypeError('fetch failed')
    return new Response(JSON.stringify(answer.body), { status: answer.status })
  }
  const client = new WeftServiceClient({
    url: 'http://relay.test',
    fetch: fakeFetch as typeof fetch,
    ...(options.token === undefined ? {} : { token: options.token }),
  })
  const outcome = await client
    .follow({
      signal: stop.signal,
      backoff: { initialMs: 100, maxMs: 1000, slowRetryMs: 5000 },
      random: options.random ?? (() => 0.5),
      sleep: async (ms) => {
        sleeps.push(ms)
      },
      onRetry: (retry) => retries.push(retry),
      onEvents: (events, cursor) => {
        batches.push({ ids: events.map((event) => event.id), cursor })
      },
    })
    .then(
      () => null,
      (error: unknown) => error,
    )
  return { outcome, afters, sleeps, retries, batches }
}

describe('the feed follower retries', () => {
  it('with full-jitter exponential delays after 5xx and network errors, reset by a success', async () => {
    const run = await runFollower([
      unavailable,
      'network-error',
      unavailable,
      unavailable,
      unavailable,
      unavailable,
      feedPage([1, 2], 2),
      'network-error',
      feedPage([3], 3),
    ])
    expect(run.outcome).toBeNull()
    // random() = 0.5 picks the middle of [0, min(1000, 100 · 2^(attempt-1))).
    expect(run.sleeps).toEqual([50, 100, 200, 400, 500, 500, 50])
    expect(run.retries.map((retry) => retry.attempt)).toEqual([1, 2, 3, 4, 5, 6, 1])
    expect(run.retries.map((retry) => retry.error.code)).toEqual([
      'STORAGE_FAILED',
      'UNAVAILABLE',
      'STORAGE_FAILED',
      'STORAGE_FAILED',
      'STORAGE_FAILED',
      'STORAGE_FAILED',
      'UNAVAILABLE',
    ])
    expect(run.batches).toEqual([
      { ids: ['1', '2'], cursor: '2' },
      { ids: ['3'], cursor: '3' },
    ])
    // Retries ask again after the same cursor; a batch moves it.
    expect(run.afters).toEqual(['0', '0', '0', '0', '0', '0', '0', '2', '2', '3'])
  })

  it('draws each delay uniformly below the bound (full jitter, not equal jitter)', async () => {
    const draws = [0, 0.999, 0.25]
    const run = await runFollower([unavailable, unavailable, unavailable], {
      random: () => draws.shift() ?? 0,
    })
    expect(run.sleeps).toEqual([0, 199, 100])
  })

  it('waits longer after 429, and stops on other 4xx with the relay error', async () => {
    const limited = { status: 429, body: { code: 'RATE_LIMITED', message: 'slow down' } }
    const slow = await runFollower([limited, feedPage([], 5)])
    expect(slow.sleeps).toEqual([5050])
    expect(slow.batches).toEqual([{ ids: [], cursor: '5' }])

    const forbidden = { status: 403, body: { code: 'FORBIDDEN', message: 'not yours' } }
    const stopped = await runFollower([unavailable, forbidden, feedPage([1], 1)])
    expect(isWeftError(stopped.outcome, 'FORBIDDEN')).toBe(true)
    expect(stopped.sleeps).toEqual([50])
    expect(stopped.batches).toEqual([])

    const expired = {
      status: 410,
      body: { code: 'CURSOR_EXPIRED', message: 'CURSOR_EXPIRED: retention removed up to 9' },
    }
    const gone = await runFollower([expired])
    expect(isWeftError(gone.outcome, 'CURSOR_EXPIRED')).toBe(true)
    expect((gone.outcome as Error).message).toBe('CURSOR_EXPIRED: retention removed up to 9')
    expect(gone.retries).toEqual([])
  })

  it('maps answers without a JSON body to a code from the status', async () => {
    const proxy = { status: 502, body: '<html>bad gateway</html>' }
    const run = await runFollower([proxy, { status: 404, body: 'no such route' }])
    expect(run.retries.map((retry) => retry.error.code)).toEqual(['UNAVAILABLE'])
    expect(isWeftError(run.outcome, 'NOT_FOUND')).toBe(true)
  })

  it('asks a token function again after 401 once, then stops', async () => {
    const unauthorized = { status: 401, body: { code: 'UNAUTHORIZED', message: 'expired' } }
    let asked = 0
    const token = (): string => `token-${++asked}`
    const refreshed = await runFollower([unauthorized, feedPage([1], 1)], { token })
    expect(refreshed.batches).toEqual([{ ids: ['1'], cursor: '1' }])
    expect(asked).toBe(3) // the refused read, its retry, and the read that found nothing left
    const refused = await runFollower([unauthorized, unauthorized, feedPage([1], 1)], { token })
    expect(isWeftError(refused.outcome, 'UNAUTHORIZED')).toBe(true)
    expect(refused.sleeps).toHaveLength(1)
  })
})
