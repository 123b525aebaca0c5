import { describe, expect, it } from 'vitest'
import { fullJitterDelayMs } from '../src/backoff.js'

describe('fullJitterDelayMs', () => {
  const bounds = { initialMs: 100, maxMs: 1000 }

  it('draws uniformly below a bound that doubles per attempt, up to the cap', () => {
    const top = (attempt: number): number => fullJitterDelayMs(bounds, attempt, () => 0.999999)
    expect([0, 1, 2, 3, 4, 10].map(top)).toEqual([99, 199, 399, 799, 999, 999])
    expect(fullJitterDelayMs(bounds, 3, () => 0)).toBe(0)
    expect(fullJitterDelayMs(bounds, 3, () => 0.5)).toBe(400)
  })

  it('stays finite for huge attempt counts', () => {
    expect(fullJitterDelayMs(bounds, 5000, () => 0.5)).toBe(500)
  })
})
