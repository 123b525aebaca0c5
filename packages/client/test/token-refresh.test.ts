import { afterEach, describe, expect, it, vi } from 'vitest'
import { DEFAULT_BACKOFF } from '../src/backoff.js'
import { decodeTokenTimes, refreshAtMs, TokenRefresher } from '../src/token-refresh.js'

/** An unsigned JWT-shaped token with this payload (the client never checks signatures). */
const jwt = (payload: Record<string, unknown>): string => {
  const part = (value: unknown): string =>
    btoa(JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
  return `${part({ alg: 'HS256' })}.${part(payload)}.signature`
}

afterEach(() => {
  vi.useRealTimers()
})

describe('decodeTokenTimes', () => {
  it('reads exp and iat of a JWT, and nothing of other tokens', () => {
    expect(decodeTokenTimes(jwt({ exp: 2_000, iat: 1_000, sub: 'ü-ß' }))).toEqual({
      expiresAtMs: 2_000_000,
      issuedAtMs: 1_000_000,
    })
    expect(decodeTokenTimes(jwt({ exp: 2_000 }))).toEqual({
      expiresAtMs: 2_000_000,
      issuedAtMs: null,
    })
    for (const token of ['opaque-api-key', 'a.b.c', jwt({ sub: 'x' }), jwt({ exp: '2000' }), '']) {
      expect(decodeTokenTimes(token), token).toBeNull()
    }
  })
})

describe('refreshAtMs', () => {
  it('is a tenth of the lifetime before expiry, at most a minute, never before half of it', () => {
    const hour = { expiresAtMs: 3_600_000, issuedAtMs: 0 }
    expect(refreshAtMs(hour, 0, null)).toBe(3_540_000)
    expect(refreshAtMs({ expiresAtMs: 10_000, issuedAtMs: 0 }, 0, null)).toBe(9_000)
    expect(refreshAtMs(hour, 0, 120_000)).toBe(3_480_000)
    expect(refreshAtMs({ expiresAtMs: 10_000, issuedAtMs: 0 }, 0, 60_000)).toBe(5_000)
    // Without iat the lifetime counts from when the token was seen.
    expect(refreshAtMs({ expiresAtMs: 10_000, issuedAtMs: null }, 4_000, null)).toBe(9_400)
  })
})

describe('TokenRefresher', () => {
  const start = (refresh: () => Promise<string>, marginMs: number | null = 1_000) => {
    const failures: Array<number | null> = []
    const refresher = new TokenRefresher({
      refresh,
      marginMs,
      backoff: DEFAULT_BACKOFF,
      random: () => 0.5,
      onFailure: (_error, retryInMs) => failures.push(retryInMs),
    })
    return { refresher, failures }
  }

  it('refreshes before each expiry and follows the new token', async () => {
    vi.useFakeTimers({ now: 0 })
    let issued = 0
    const { refresher } = start(async () => {
      issued += 1
      const now = Math.floor(Date.now() / 1000)
      return jwt({ iat: now, exp: now + 10 })
    })
    refresher.follow(jwt({ iat: 0, exp: 10 }))
    await vi.advanceTimersByTimeAsync(8_999)
    expect(issued).toBe(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(issued).toBe(1)
    await vi.advanceTimersByTimeAsync(9_000)
    expect(issued).toBe(2)
    refresher.stop()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(issued).toBe(2)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('retries a failed refresh with backoff, at least a second apart, until the token expires', async () => {
    vi.useFakeTimers({ now: 0 })
    let calls = 0
    const { refresher, failures } = start(async () => {
      calls += 1
      throw new Error('sign-in service down')
    }, 5_000)
    refresher.follow(jwt({ iat: 0, exp: 10 }))
    await vi.advanceTimersByTimeAsync(10_000)
    expect(calls).toBeGreaterThanOrEqual(2)
    expect(calls).toBeLessThanOrEqual(6)
    expect(failures.at(-1)).toBeNull()
    for (const wait of failures.slice(0, -1)) expect(wait).toBeGreaterThanOrEqual(1_000)
    await vi.advanceTimersByTimeAsync(600_000)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('does not loop when the token function returns the same token', async () => {
    vi.useFakeTimers({ now: 0 })
    const same = jwt({ iat: 0, exp: 10 })
    let calls = 0
    const { refresher } = start(async () => {
      calls += 1
      return same
    })
    refresher.follow(same)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(calls).toBeLessThanOrEqual(2)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('schedules nothing for a token that is not a JWT', () => {
    vi.useFakeTimers({ now: 0 })
    const { refresher } = start(async () => 'opaque')
    refresher.follow('opaque')
    expect(vi.getTimerCount()).toBe(0)
  })
})
