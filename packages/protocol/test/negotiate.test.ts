import { describe, expect, it } from 'vitest'
import { MIN_PROTOCOL_VERSION, negotiateVersion, PROTOCOL_VERSION } from '../src/index.js'

const expectUnsupported = (minVersion: number, maxVersion: number): void => {
  const result = negotiateVersion(minVersion, maxVersion)
  expect(result.ok).toBe(false)
  if (result.ok) return
  expect(result.error.code).toBe('VERSION_UNSUPPORTED')
  expect(result.error.closeCode).toBe(4426)
  expect(result.error.retry).toBe('stop')
}

describe('negotiateVersion', () => {
  it('agrees on the newest version when the client speaks exactly our range', () => {
    expect(negotiateVersion(MIN_PROTOCOL_VERSION, PROTOCOL_VERSION)).toEqual({
      ok: true,
      version: PROTOCOL_VERSION,
    })
  })

  it('caps the version at ours when the client also speaks newer ones', () => {
    expect(negotiateVersion(MIN_PROTOCOL_VERSION, PROTOCOL_VERSION + 5)).toEqual({
      ok: true,
      version: PROTOCOL_VERSION,
    })
  })

  it("takes the client's newest version when that is inside our range", () => {
    expect(negotiateVersion(0, MIN_PROTOCOL_VERSION)).toEqual({
      ok: true,
      version: MIN_PROTOCOL_VERSION,
    })
  })

  it('refuses a client that only speaks newer versions', () => {
    expectUnsupported(PROTOCOL_VERSION + 1, PROTOCOL_VERSION + 3)
  })

  it('refuses a client that only speaks older versions', () => {
    expectUnsupported(0, MIN_PROTOCOL_VERSION - 1)
  })

  it('refuses an inverted range', () => {
    expectUnsupported(PROTOCOL_VERSION + 1, MIN_PROTOCOL_VERSION)
    expectUnsupported(PROTOCOL_VERSION, PROTOCOL_VERSION - 1)
  })

  it.each([
    ['a NaN range', Number.NaN, Number.NaN],
    ['a NaN minimum', Number.NaN, PROTOCOL_VERSION],
    ['a NaN maximum', MIN_PROTOCOL_VERSION, Number.NaN],
    ['a fractional range', MIN_PROTOCOL_VERSION - 0.5, PROTOCOL_VERSION + 0.5],
    ['an infinite maximum', MIN_PROTOCOL_VERSION, Number.POSITIVE_INFINITY],
  ])('refuses %s instead of negotiating a non-integer version', (_, min, max) => {
    expectUnsupported(min, max)
  })

  it('names both ranges in the error message', () => {
    const result = negotiateVersion(7, 9)
    expect(!result.ok && result.error.message).toBe(
      `VERSION_UNSUPPORTED: client speaks versions 7..9, relay speaks ${MIN_PROTOCOL_VERSION}..${PROTOCOL_VERSION}`,
    )
  })
})
