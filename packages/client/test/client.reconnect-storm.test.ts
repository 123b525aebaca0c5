import type { DocHandle } from '@weft/client'
import { ForwardingStore, type StoredDoc } from '@weft/server'
import { LevelStore } from '@weft/store-level'
import {
  expectConverged,
  startTestRelay,
  testClient,
  untilSameState,
  type TestRelay,
} from '@weft/testkit'
import { afterAll, describe, expect, it } from 'vitest'

const CLIENTS = 500
const DOCS = 50

/** Counts loads per document. */
class CountingStore extends ForwardingStore {
  readonly loads = new Map<string, number>()

  override load(name: string): Promise<StoredDoc> {
    this.loads.set(name, (this.loads.get(name) ?? 0) + 1)
    return this.inner.load(name)
  }
}

const relays: TestRelay[] = []
afterAll(async () => {
  for (const relay of relays) await relay.close()
})

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!

describe('reconnect storm', () => {
  it(`${CLIENTS} clients on ${DOCS} documents lose the relay at once and all come back`, async () => {
    const first = await startTestRelay()
    relays.push(first)
    const handles: DocHandle[] = []
    for (let index = 0; index < CLIENTS; index++) {
      const client = testClient(first, {
        backoff: { initialMs: 250, maxMs: 2000, slowRetryMs: 2000, stableMs: 10_000 },
      })
      handles.push(client.open(`doc-${index % DOCS}`))
    }
    await Promise.all(handles.map((handle) => handle.whenSynced()))
    handles.forEach((handle, index) => handle.doc.getMap('m').set(`before-${index}`, index))
    await Promise.all(handles.map((handle) => handle.whenSaved()))

    await first.close({ keepData: true })
    // Edits while the relay is down stay in the outboxes.
    handles.forEach((handle, index) => handle.doc.getMap('m').set(`during-${index}`, index))
    expect(handles.every((handle) => handle.pending === 1)).toBe(true)

    const store = new CountingStore(await LevelStore.open({ path: first.dataDir }))
    const { loads } = store
    const restartedAt = performance.now()
    const second = await startTestRelay({ store, port: first.port })
    relays.push(second)
    const reconnectMs = await Promise.all(
      handles.map(async (handle) => {
        await handle.whenSynced()
        return performance.now() - restartedAt
      }),
    )
    await Promise.all(handles.map((handle) => handle.whenSaved()))

    for (let doc = 0; doc < DOCS; doc++) {
      const group = handles.filter((_, index) => index % DOCS === doc)
      await untilSameState(group.map((handle) => handle.doc))
      expectConverged(group.map((handle) => handle.doc))
      expect(group[0]!.doc.getMap('m').size).toBe((CLIENTS / DOCS) * 2)
    }
    expect(loads.size).toBe(DOCS)
    expect([...loads.values()].every((count) => count === 1)).toBe(true)

    const sorted = [...reconnectMs].sort((a, b) => a - b)
    const spread = sorted.at(-1)! - sorted[0]!
    console.log(
      `reconnect storm: ${CLIENTS} clients synced again after ` +
        `min ${Math.round(sorted[0]!)} ms, p50 ${Math.round(percentile(sorted, 50))} ms, ` +
        `p90 ${Math.round(percentile(sorted, 90))} ms, max ${Math.round(sorted.at(-1)!)} ms (spread ${Math.round(spread)} ms)`,
    )
    // Full jitter spreads the reconnects instead of a thundering herd at one instant.
    expect(spread).toBeGreaterThan(200)
  }, 120_000)
})
