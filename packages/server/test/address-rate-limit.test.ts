import { describe, expect, it } from 'vitest'
import { AddressRateLimit } from '../src/address-rate-limit.js'

/** A limiter on a clock the test moves by hand. */
const limiter = (perSecond: number, maxAddresses: number) => {
  const clock = { nowMs: 1_000_000 }
  const limit = new AddressRateLimit({ perSecond, maxAddresses, now: () => clock.nowMs })
  return { limit, clock }
}

describe('AddressRateLimit', () => {
  it('admits a burst of twice the rate, then says how long to wait, and admits again after it', () => {
    const { limit, clock } = limiter(10, 100)
    const waits = Array.from({ length: 21 }, () => limit.admit('198.18.0.1'))
    expect(waits.slice(0, 20)).toEqual(Array(20).fill(0))
    expect(waits[20]).toBe(100)
    // A refused request costs nothing: waiting the time given is enough.
    expect(limit.admit('198.18.0.1')).toBe(100)
    clock.nowMs += 100
    expect(limit.admit('198.18.0.1')).toBe(0)
    expect(limit.admit('198.18.0.1')).toBe(100)
  })

  it('keeps one bucket per address: another address is not slowed by the first', () => {
    const { limit } = limiter(1, 100)
    expect([limit.admit('a'), limit.admit('a'), limit.admit('a')]).toEqual([0, 0, 1000])
    expect(limit.admit('b')).toBe(0)
  })

  it('tracks at most maxAddresses, forgetting the least recently seen first', () => {
    const { limit } = limiter(1, 3)
    for (const address of ['a', 'a', 'b', 'c']) limit.admit(address)
    expect(limit.admit('a')).toBeGreaterThan(0)
    // 'a' was seen last, so 'b' goes first when 'd' arrives: 'a' is still limited.
    limit.admit('d')
    expect(limit.size).toBe(3)
    expect(limit.admit('a')).toBeGreaterThan(0)
    for (let index = 0; index < 10_000; index++) limit.admit(`198.18.${index >> 8}.${index & 255}`)
    expect(limit.size).toBe(3)
    // Forgotten, 'a' starts again with a full burst.
    expect(limit.admit('a')).toBe(0)
  })

  it('refuses a rate or an address cap that is not a positive integer', () => {
    expect(() => new AddressRateLimit({ perSecond: 0, maxAddresses: 1 })).toThrow(/perSecond/)
    expect(() => new AddressRateLimit({ perSecond: 1, maxAddresses: 0.5 })).toThrow(/maxAddresses/)
  })
})
