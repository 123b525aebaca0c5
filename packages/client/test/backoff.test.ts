import { describe, expect, it } from 'vitest'
import { backoffDelayMs, DEFAULT_BACKOFF } from '../src/backoff.js'

describe('backoffDelayMs (exponential, full jitter)', () => {
  it('draws uniformly below an exponential bound', () => {
    expect(backoffDelayMs(DEFAULT_BACKOFF, 0, () => 0.999)).toBe(249)
    expect(backoffDelayMs(DEFAULT_BACKOFF, 3, () => 0.5)).toBe(1000)
    expect(backoffDelayMs(DEFAULT_BACKOFF, 3, () => 0)).toBe(0)
  })

  it('caps the bound at maxMs, even for huge attempt counts', () => {
    expect(backoffDelayMs(DEFAULT_BACKOFF, 20, () => 0.999)).toBe(29_970)
    expect(backoffDelayMs(DEFAULT_BACKOFF, 10_000, () => 0.5)).toBe(15_000)
  })

  it('waits at least slowRetryMs after a slow-retry error', () => {
    expect(backoffDelayMs(DEFAULT_BACKOFF, 0, () => 0, true)).toBe(30_000)
    expect(backoffDelayMs(DEFAULT_BACKOFF, 0, () => 0.5, true)).toBe(30_125)
  })
})
