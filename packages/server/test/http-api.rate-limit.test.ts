import { startTestRelay, type TestRelay } from '@weft/testkit'
import { createHttpApi, type HttpApiOptions } from '@weft/server/http'
import { afterEach, describe, expect, it } from 'vitest'

// The relay's /v1 API over loopback HTTP. Requests come from 127.0.0.1, a trusted proxy by
// default, so X-Forwarded-For names the client the limit counts.
let relay: TestRelay | null = null
afterEach(async () => {
  await relay?.close()
  relay = null
})

const start = async (
  httpApi: HttpApiOptions,
  trustedProxies?: readonly string[],
): Promise<TestRelay> =>
  (relay = await startTestRelay({
    httpApi,
    historyMs: 60_000,
    ...(trustedProxies === undefined ? {} : { trustedProxies }),
  }))

/** GET /v1/feed/head as `client` (through the proxy), or from this machine itself (null). */
const head = (client: string | null): Promise<Response> =>
  fetch(`${relay?.httpUrl}/v1/feed/head`, {
    headers: client === null ? {} : { 'x-forwarded-for': client },
  })

/** The statuses of `count` requests from `client`, one after another. */
const statuses = async (client: string | null, count: number): Promise<number[]> => {
  const seen: number[] = []
  for (let index = 0; index < count; index++) {
    const response = await head(client)
    await response.arrayBuffer()
    seen.push(response.status)
  }
  return seen
}

describe('the /v1 request rate per client address', () => {
  it('answers a burst beyond the limit 429 RATE_LIMITED with Retry-After', async () => {
    // One a second, two in a burst: the third within a second is refused.
    await start({ maxRequestsPerSecond: 1 })
    expect(await statuses('198.18.0.1', 2)).toEqual([200, 200])
    const refused = await head('198.18.0.1')
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await refused.json()).toMatchObject({ code: 'RATE_LIMITED' })
  })

  it('counts each client behind a trusted proxy on its own', async () => {
    await start({ maxRequestsPerSecond: 1 })
    expect(await statuses('198.18.0.1', 3)).toEqual([200, 200, 429])
    expect(await statuses('198.18.0.2', 2)).toEqual([200, 200])
    expect(await statuses(null, 2)).toEqual([200, 200])
  })

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    await start({ maxRequestsPerSecond: 1 }, [])
    const seen: number[] = []
    for (const client of ['198.18.1.1', '198.18.1.2', '198.18.1.3']) {
      seen.push(...(await statuses(client, 1)))
    }
    // Each claims another client, but all count as 127.0.0.1.
    expect(seen).toEqual([200, 200, 429])
  })

  it('forgets the least recently seen address past maxTrackedAddresses', async () => {
    await start({ maxRequestsPerSecond: 1, maxTrackedAddresses: 2 })
    expect(await statuses('198.18.0.1', 3)).toEqual([200, 200, 429])
    // One other address keeps .1 tracked (and limited); a second pushes it out.
    expect(await statuses('198.18.0.2', 1)).toEqual([200])
    expect(await statuses('198.18.0.1', 1)).toEqual([429])
    expect(await statuses('198.18.0.3', 1)).toEqual([200])
    expect(await statuses('198.18.0.4', 1)).toEqual([200])
    expect(await statuses('198.18.0.1', 1)).toEqual([200])
  })

  it('does not limit with maxRequestsPerSecond 0, and refuses a bad value', async () => {
    const started = await start({ maxRequestsPerSecond: 0 })
    expect((await statuses('198.18.0.1', 50)).every((status) => status === 200)).toBe(true)
    expect(() => createHttpApi(started.relay, { maxRequestsPerSecond: -1 })).toThrow(
      /maxRequestsPerSecond must be a non-negative integer/,
    )
    expect(() => createHttpApi(started.relay, { maxTrackedAddresses: 0 })).toThrow(
      /maxTrackedAddresses/,
    )
  })
})
