/**
 * The multi-relay reliability runs at smoke size (`pnpm reliability` runs them larger): the set
 * check against three relays on one PostgreSQL and one Redis with seeded SIGKILLs, and the seeded
 * simulation with its clients spread over those relays.
 */
import { fileURLToPath } from 'node:url'
import { chooseSeed, runClusterSetCheck, runSimulation } from '@weft/testkit'
import { describe, expect, it } from 'vitest'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))

describe('reliability runs against three relays on PostgreSQL and Redis (smoke size)', () => {
  it('the set check loses no acknowledged add while seeded relays are SIGKILLed', async () => {
    const seed = chooseSeed('cluster set check')
    const result = await runClusterSetCheck({
      relayMain: MAIN,
      seed,
      clients: 3,
      itemsPerClient: 40,
      kills: 2,
    })
    console.log('cluster set check', JSON.stringify(result))
    expect(result.attempted).toBe(120)
    expect(result.ok).toBeGreaterThan(0)
    expect(result.lost).toBe(0)
    expect(result.unexpected).toBe(0)
    expect(result.duplicates).toBe(0)
    expect(result.divergences).toBe(0)
    // PostgreSQL, a reader on each of the three relays, and the three writers.
    expect(result.replicas).toBe(7)
    expect(result.ok + result.recoveredUnknown + result.unknownAbsent).toBe(result.attempted)
  }, 60_000)

  it('the simulation, its clients going round three relays that are SIGKILLed, converges with nothing lost', async () => {
    const seed = chooseSeed('cluster simulation')
    const result = await runSimulation({
      seed,
      steps: 150,
      cluster: { relayMain: MAIN },
      relayRestartSteps: [50, 100],
      healBeforeRelayRestart: true,
    })
    const { trace, ...figures } = result
    console.log('cluster simulation', JSON.stringify(figures))
    expect(result.failures, [...result.failures, ...trace.slice(-15)].join('\n')).toEqual([])
    expect(result.relays).toBe(3)
    expect(result.lost).toBe(0)
    expect(result.lostAcknowledged).toBe(0)
    expect(result.divergences).toBe(0)
    expect(result.edits).toBeGreaterThan(20)
    expect(result.acknowledged).toBeGreaterThan(0)
    expect(result.faults.relayRestarts).toBeGreaterThanOrEqual(2)
  }, 60_000)
})
