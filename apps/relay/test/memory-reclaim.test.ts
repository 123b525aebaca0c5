import { describe, expect, it } from 'vitest'
import { fullGc, MemoryReclaimer } from '../src/memory-reclaim.js'

const reclaimerOver = (counts: number[]) => {
  let index = 0
  let collected = 0
  const reclaimer = new MemoryReclaimer({
    rooms: () => counts[index] ?? 0,
    collect: () => collected++,
    minUnloaded: 100,
    maxRemainingFraction: 0.5,
  })
  const decisions = counts.map((_, at) => {
    index = at
    return reclaimer.check()
  })
  return { decisions, collected: () => collected }
}

describe('MemoryReclaimer', () => {
  it('collects after many documents unloaded, not while they load or stay', () => {
    const { decisions, collected } = reclaimerOver([0, 500, 2000, 2000, 1500, 900, 0, 0, 0])
    // 2000 -> 900: 1,100 unloaded and under half of the high-water mark left; 900 -> 0 again.
    expect(decisions).toEqual([false, false, false, false, false, true, true, false, false])
    expect(collected()).toBe(2)
  })

  it('never collects for a few documents coming and going', () => {
    const { decisions } = reclaimerOver([10, 60, 0, 90, 0, 99, 0])
    expect(decisions.every((collected) => !collected)).toBe(true)
  })

  it('measures the next drop from where the last collection left it', () => {
    const { decisions, collected } = reclaimerOver([400, 0, 300, 100, 250, 0])
    expect(decisions).toEqual([false, true, false, true, false, true])
    expect(collected()).toBe(3)
  })

  it('refuses settings that would never or always collect', () => {
    const base = { rooms: () => 0, collect: () => {}, maxRemainingFraction: 0.5 }
    expect(() => new MemoryReclaimer({ ...base, minUnloaded: 0 })).toThrow(/minUnloaded/)
    expect(() => new MemoryReclaimer({ ...base, minUnloaded: 1, maxRemainingFraction: 1 })).toThrow(
      /maxRemainingFraction/,
    )
  })

  it("fullGc returns the process's collector, which frees unreachable memory", () => {
    const gc = fullGc()
    gc()
    const before = process.memoryUsage().heapUsed
    let garbage: unknown[] | null = Array.from({ length: 200_000 }, (_, index) => ({ index }))
    expect(garbage.length).toBe(200_000)
    garbage = null
    const grown = process.memoryUsage().heapUsed
    gc()
    const after = process.memoryUsage().heapUsed
    expect(grown - before).toBeGreaterThan(5_000_000)
    expect(after).toBeLessThan(before + (grown - before) / 2)
  })
})
