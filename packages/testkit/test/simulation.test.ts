import { MemoryLocalStore, type LocalDoc } from '@weft/client'
import { describe, expect, it } from 'vitest'
import { runSimulation, type SimulationResult } from '../src/simulation.js'

/** The seeds CI runs; `WEFT_SEED=<n>` replays one instead. */
const fromEnv = process.env['WEFT_SEED']
const SEEDS = fromEnv !== undefined && fromEnv !== '' ? [Number.parseInt(fromEnv, 10)] : [1, 2, 3]

const report = (result: SimulationResult): string =>
  [
    `seed ${result.seed} failed (replay: WEFT_SEED=${result.seed} npx vitest run packages/testkit/test/simulation.test.ts)`,
    ...result.failures,
    'last moves:',
    ...result.trace.slice(-15),
  ].join('\n')

/** A local store that comes back empty after a restart: a device that lost its storage. */
class ForgetfulStore extends MemoryLocalStore {
  override async load(doc: string): Promise<LocalDoc> {
    await this.clear(doc)
    return super.load(doc)
  }
}

describe('seeded convergence simulation (3 Weft clients, 1 y-websocket client, relay on LevelDB)', () => {
  for (const seed of SEEDS) {
    it(`converges with nothing lost, seed ${seed}`, async () => {
      const result = await runSimulation({ seed, steps: 300 })
      console.log(
        `simulation seed=${seed}: ${result.edits} edits, ${result.acknowledged} acknowledged, faults ${JSON.stringify(result.faults)}, converged in ${result.convergeMs} ms`,
      )
      expect(result.failures, report(result)).toEqual([])
      expect(result.lost).toBe(0)
      expect(result.divergences).toBe(0)
      // The run exercised what it claims to.
      expect(result.edits).toBeGreaterThan(50)
      expect(result.acknowledged).toBeGreaterThan(0)
      expect(result.faults.delivered).toBeGreaterThan(100)
      expect(result.faults.cuts + result.faults.partitions).toBeGreaterThan(0)
      expect(result.faults.clientRestarts + result.faults.relayRestarts).toBeGreaterThan(0)
    }, 60_000)
  }

  it('replays a seed exactly: the same moves and the same final state', async () => {
    const first = await runSimulation({ seed: 11, steps: 150 })
    const second = await runSimulation({ seed: 11, steps: 150 })
    expect(second.trace).toEqual(first.trace)
    expect(second.traceHash).toBe(first.traceHash)
    expect(second.faults).toEqual(first.faults)
    const other = await runSimulation({ seed: 12, steps: 150 })
    expect(other.trace).not.toEqual(first.trace)
  }, 60_000)

  it('reports lost edits when a client restarts from a store that forgot them', async () => {
    const result = await runSimulation({
      seed: 5,
      steps: 300,
      localStore: () => new ForgetfulStore(),
    })
    expect(result.faults.clientRestarts).toBeGreaterThan(0)
    expect(result.lost).toBeGreaterThan(0)
    expect(result.failures.some((failure) => failure.includes('not covered'))).toBe(true)
  }, 60_000)
})
