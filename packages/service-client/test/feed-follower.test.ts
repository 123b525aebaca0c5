import { rm } from 'node:fs/promises'
import {
  isWeftError,
  WeftServiceClient,
  type FeedEvent,
  type FollowRetry,
} from '@weft/service-client'
import { withTimeout, type TestRelay, writeToken } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { startApiRelay } from './fixtures/relays.js'

const relays: TestRelay[] = []
const dirs: string[] = []
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.close()
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

const start = async (options: Parameters<typeof startApiRelay>[0] = {}): Promise<TestRelay> => {
  const relay = await startApiRelay(options)
  relays.push(relay)
  return relay
}

const textUpdate = (text: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('body').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

/** A consumer that records batches; `atLeast(n)` resolves once `n` events arrived. */
const collector = () => {
  const events: FeedEvent[] = []
  const cursors: string[] = []
  const waiters: Array<{ count: number; resolve: () => void }> = []
  const onEvents = (batch: readonly FeedEvent[], cursor: string): void => {
    events.push(...batch)
    cursors.push(cursor)
    for (const waiter of waiters.filter((each) => events.length >= each.count)) waiter.resolve()
  }
  const atLeast = (count: number, what: string): Promise<void> =>
    withTimeout(
      new Promise<void>((resolve) => {
        if (events.length >= count) resolve()
        else waiters.push({ count, resolve })
      }),
      10_000,
      what,
    )
  return { events, cursors, onEvents, atLeast }
}

describe('client.follow against a relay', () => {
  it('hands over every matching change in order, in batches, with the cursor after each', async () => {
    const { httpUrl } = await start()
    const client = new WeftServiceClient({ url: httpUrl, token: await writeToken('svc') })
    for (let index = 1; index <= 7; index++) {
      await client.postUpdate(index % 2 === 0 ? 'other/x' : `jobs/${index}`, textUpdate('x'))
    }
    const stop = new AbortController()
    const seen = collector()
    const following = client.follow({
      docs: ['jobs/*'],
      limit: 2,
      signal: stop.signal,
      onEvents: seen.onEvents,
    })
    // Written while following: arrives through the long poll.
    await client.postUpdate('jobs/9', textUpdate('late'))
    await client.postUpdate('jobs/11', textUpdate('later'))
    await seen.atLeast(6, 'six jobs followed')
    stop.abort()
    await withTimeout(following, 5_000, 'follow resolves once aborted mid long poll')
    expect(seen.events.map((event) => [event.id, event.doc])).toEqual([
      ['1', 'jobs/1'],
      ['3', 'jobs/3'],
      ['5', 'jobs/5'],
      ['7', 'jobs/7'],
      ['8', 'jobs/9'],
      ['9', 'jobs/11'],
    ])
    // Batches of at most two; each cursor is at or past its batch's last event.
    expect(seen.cursors.slice(0, 2)).toEqual(['3', '7'])
    expect(seen.cursors.at(-1)).toBe('9')
  })

  it('resumes after a persisted cursor without repeating what came before it', async () => {
    const { httpUrl } = await start()
    const client = new WeftServiceClient({ url: httpUrl, token: await writeToken('svc') })
    for (let index = 1; index <= 4; index++) await client.postUpdate('jobs/a', textUpdate('x'))
    const stop = new AbortController()
    const seen = collector()
    const following = client.follow({ after: '2', signal: stop.signal, onEvents: seen.onEvents })
    await seen.atLeast(2, 'events after the cursor')
    stop.abort()
    await following
    expect(seen.events.map((event) => event.id)).toEqual(['3', '4'])
  })

  it('keeps following across a relay restart, retrying with backoff, losing nothing', async () => {
    const first = await start()
    const token = await writeToken('svc')
    const client = new WeftServiceClient({ url: first.httpUrl, token, timeoutMs: 2_000 })
    await client.postUpdate('jobs/a', textUpdate('before'))
    const stop = new AbortController()
    const seen = collector()
    const retries: FollowRetry[] = []
    let retried = (): void => {}
    const firstRetry = new Promise<void>((resolve) => (retried = resolve))
    const following = client.follow({
      signal: stop.signal,
      waitMs: 1_000,
      backoff: { initialMs: 50, maxMs: 200 },
      onRetry: (retry) => {
        retries.push(retry)
        retried()
      },
      onEvents: seen.onEvents,
    })
    await seen.atLeast(1, 'the first event')
    relays.splice(relays.indexOf(first), 1)
    await first.close({ keepData: true })
    dirs.push(first.dataDir)
    await withTimeout(firstRetry, 10_000, 'a retry while the relay is down')
    const second = await start({ dataDir: first.dataDir, port: first.port })
    const after = new WeftServiceClient({ url: second.httpUrl, token })
    await after.postUpdate('jobs/a', textUpdate('after'))
    await seen.atLeast(2, 'the event written after the restart')
    stop.abort()
    await following
    expect(seen.events.map((event) => event.id)).toEqual(['1', '2'])
    expect(retries.length).toBeGreaterThan(0)
    // No answer while it is down (UNAVAILABLE), or a 503 while it shuts down.
    const codes = new Set(retries.map((retry) => retry.error.code))
    expect(
      [...codes].filter((code) => !['UNAVAILABLE', 'SHUTTING_DOWN', 'CLOSED'].includes(code)),
    ).toEqual([])
    expect(
      retries.every((retry) => retry.delayMs < Math.min(200, 50 * 2 ** (retry.attempt - 1))),
    ).toBe(true)
  })

  it('stops with CURSOR_EXPIRED when retention removed changes after its cursor', async () => {
    const { httpUrl, relay } = await start()
    const client = new WeftServiceClient({ url: httpUrl, token: await writeToken('svc') })
    await client.postUpdate('jobs/a', textUpdate('x'))
    await client.postUpdate('jobs/a', textUpdate('y'))
    await relay.feed.prune(Date.now() + 10 * 60_000)
    const seen = collector()
    const outcome = await withTimeout(
      client.follow({ after: '1', onEvents: seen.onEvents }).then(
        () => null,
        (error: unknown) => error,
      ),
      5_000,
      'follow stops',
    )
    expect(isWeftError(outcome, 'CURSOR_EXPIRED')).toBe(true)
    expect(seen.events).toEqual([])
  })
})
