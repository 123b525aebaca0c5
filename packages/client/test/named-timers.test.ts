import { describe, expect, it } from 'vitest'
import { NamedTimers } from '../src/named-timers.js'
import { ManualClock } from './doc-handle-fixture.js'

describe('NamedTimers', () => {
  it('runs each timer once on its clock; setting one again replaces it', () => {
    const clock = new ManualClock()
    const timers = new NamedTimers<'a' | 'b'>(clock)
    const ran: string[] = []
    timers.set('a', 100, () => ran.push('a1'))
    timers.set('a', 300, () => ran.push('a2'))
    timers.set('b', 200, () => ran.push('b'))
    expect(timers.has('a')).toBe(true)
    clock.advance(250)
    expect(ran).toEqual(['b'])
    expect(timers.has('b')).toBe(false)
    clock.advance(50)
    expect(ran).toEqual(['b', 'a2'])
    expect(clock.timersWaiting).toBe(0)
  })

  it('clears one timer, or all of them', () => {
    const clock = new ManualClock()
    const timers = new NamedTimers<'a' | 'b'>(clock)
    const ran: string[] = []
    timers.set('a', 100, () => ran.push('a'))
    timers.set('b', 100, () => ran.push('b'))
    timers.clear('a')
    expect(timers.has('a')).toBe(false)
    clock.advance(100)
    expect(ran).toEqual(['b'])
    timers.set('a', 100, () => ran.push('a'))
    timers.set('b', 100, () => ran.push('b'))
    timers.clearAll()
    clock.advance(1_000)
    expect(ran).toEqual(['b'])
    expect(clock.timersWaiting).toBe(0)
  })
})
