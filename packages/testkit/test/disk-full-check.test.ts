import { describe, expect, it } from 'vitest'
import { chooseSeed } from '../src/seed.js'
import { runDiskFullCheck } from '../src/disk-full-check.js'

describe('disk-full injection on a LevelDB relay', () => {
  it('acknowledges nothing unwritten, reports a retryable error, loses nothing and resumes', async () => {
    const seed = chooseSeed('disk-full check')
    const result = await runDiskFullCheck({ seed, windows: 2 })
    console.log('disk-full check', JSON.stringify(result))
    expect(result.refusedWrites).toBeGreaterThan(0)
    expect(result.clientErrors).toBeGreaterThan(0)
    expect(result.retryableErrors).toBe(result.clientErrors)
    expect(result.acknowledgedUnwritten).toBe(0)
    expect(result.lost).toBe(0)
    expect(result.writes).toBeGreaterThan(100)
  }, 60_000)
})
