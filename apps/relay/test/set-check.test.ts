import { fileURLToPath } from 'node:url'
import { chooseSeed, runSetCheck } from '@weft/testkit'
import { describe, expect, it } from 'vitest'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))

describe('the set check (smoke size; `pnpm reliability` runs the long one)', () => {
  it('loses no acknowledged add through SIGKILLs of the relay and a faulty network', async () => {
    const seed = chooseSeed('set check')
    const result = await runSetCheck({
      relayMain: MAIN,
      seed,
      clients: 3,
      itemsPerClient: 60,
      kills: 2,
    })
    console.log('set check', JSON.stringify(result))
    expect(result.attempted).toBe(180)
    expect(result.ok).toBeGreaterThan(0)
    expect(result.lost).toBe(0)
    expect(result.unexpected).toBe(0)
    expect(result.duplicates).toBe(0)
    expect(result.ok + result.recoveredUnknown + result.unknownAbsent).toBe(result.attempted)
  }, 120_000)
})
