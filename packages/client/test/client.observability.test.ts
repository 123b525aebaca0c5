import { startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'

let relay: TestRelay | undefined

afterEach(async () => {
  await relay?.close()
  relay = undefined
})

describe('client hooks for app metrics', () => {
  it('report ack latency on saved, pending depth, and every scheduled retry', async () => {
    relay = await startTestRelay()
    const client = testClient(relay, {
      backoff: { initialMs: 20, maxMs: 40, slowRetryMs: 40, stableMs: 1000 },
    })
    const handle = client.open('doc')
    await handle.whenSynced()
    const depths: number[] = []
    const latencies: Array<number | null> = []
    handle.on('pending', (pending) => depths.push(pending))
    handle.on('saved', ({ latencyMs }) => latencies.push(latencyMs))
    handle.doc.getText('t').insert(0, 'a')
    handle.doc.getText('t').insert(1, 'b')
    await handle.whenSaved()
    await new Promise((resolve) => setTimeout(resolve, 0)) // `pending` is emitted once per tick
    expect(Math.max(...depths)).toBeGreaterThanOrEqual(1)
    expect(depths.at(-1)).toBe(0)
    expect(latencies.length).toBeGreaterThan(0)
    for (const latency of latencies) {
      expect(latency).not.toBeNull()
      expect(latency as number).toBeGreaterThanOrEqual(0)
      expect(latency as number).toBeLessThan(5_000)
    }

    const retries: Array<{ attempt: number; delayMs: number; reason: string }> = []
    client.on('retry', (event) => retries.push(event))
    const port = relay.port
    await relay.close()
    relay = undefined
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(retries.length).toBeGreaterThanOrEqual(2)
    expect(retries.map((retry) => retry.attempt).slice(0, 2)).toEqual([1, 2])
    for (const retry of retries) {
      expect(retry.delayMs).toBeGreaterThanOrEqual(0)
      expect(retry.delayMs).toBeLessThan(40)
      expect(retry.reason.length).toBeGreaterThan(0)
    }
    // Back on the same port: the retries stop at the next successful connection.
    relay = await startTestRelay({ port })
    await handle.whenSynced()
    const count = retries.length
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(retries.length).toBe(count)
  })
})
