import { describe, expect, it } from 'vitest'
import { resolveClientOptions } from '../src/client-options.js'
import { systemClock } from '../src/clock.js'
import { ManualClock } from './doc-handle-fixture.js'

class FakeSocket {}
const base = { url: 'ws://localhost:8787', WebSocket: FakeSocket as never }
const zero = (): number => 0
const noop = (): void => {}

describe('resolveClientOptions clock', () => {
  it('defaults to the system clock', () => {
    expect(resolveClientOptions(base).clock).toBe(systemClock)
  })

  it('takes a clock with the four functions', () => {
    const clock = new ManualClock()
    expect(resolveClientOptions({ ...base, clock }).clock).toBe(clock)
  })

  it.each([
    ['a number', 5],
    ['null', null],
    ['an object missing wallNow', { now: zero, setTimeout: zero, clearTimeout: noop }],
    [
      'an object whose now is not a function',
      { now: 0, wallNow: zero, setTimeout: zero, clearTimeout: noop },
    ],
  ])('refuses %s with INVALID_ARGUMENT naming options.clock', (_, clock) => {
    expect(() => resolveClientOptions({ ...base, clock } as never)).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/options\.clock/),
      }),
    )
  })
})

describe('systemClock', () => {
  it('reads the platform time', () => {
    const before = Date.now()
    expect(systemClock.wallNow()).toBeGreaterThanOrEqual(before)
    expect(systemClock.now()).toBeLessThanOrEqual(performance.now())
  })
})
