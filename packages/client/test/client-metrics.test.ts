import { createClient, trackConflicts } from '@weft/client'
import { defineSchema, field } from '@weft/doc'
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import {
  ClientMetrics,
  PENDING_SAMPLE_INTERVAL_MS,
  type MetricSample,
} from '../src/client-metrics.js'
import { ManualClock } from './doc-handle-fixture.js'

/** Metrics over a manual clock and a settable outbox, with every sample recorded. */
const setup = (options: { docNames?: boolean; hook?: (sample: MetricSample) => void } = {}) => {
  const clock = new ManualClock()
  const samples: MetricSample[] = []
  const outbox = { pending: 0, oldestPendingAt: null as number | null }
  const metrics = new ClientMetrics({
    hook: options.hook ?? ((sample) => samples.push(sample)),
    clock,
    docNames: options.docNames ?? false,
    pending: { pending: () => ({ ...outbox }) },
  })
  const named = (name: MetricSample['name']): MetricSample[] =>
    samples.filter((sample) => sample.name === name)
  return { clock, samples, outbox, metrics, named }
}

describe('ClientMetrics', () => {
  it('tells a first connection from reconnects, with the time offline and the attempt', () => {
    const { clock, metrics, named } = setup()
    expect(metrics.connected()).toEqual({ reconnect: false, offlineMs: null, attempt: 0 })
    clock.advance(1_000)
    metrics.down()
    clock.advance(700)
    metrics.retried(1)
    metrics.retried(2)
    clock.advance(50)
    expect(metrics.connected()).toEqual({ reconnect: true, offlineMs: 750, attempt: 2 })
    metrics.down()
    clock.advance(5)
    expect(metrics.connected()).toEqual({ reconnect: true, offlineMs: 5, attempt: 0 })
    expect(named('weft.client.reconnects').map((sample) => sample.value)).toEqual([1, 1])
    expect(named('weft.client.offline_duration').map((sample) => sample.value)).toEqual([750, 5])
    expect(named('weft.client.retries')).toHaveLength(2)
    expect(metrics.snapshot()).toMatchObject({ connects: 3, reconnects: 2, retries: 2 })
  })

  it('gives each sample its kind and unit, and document names only when asked', () => {
    const plain = setup()
    plain.metrics.saved('notes/1', 12)
    plain.metrics.refused('notes/1', 'FORBIDDEN')
    plain.metrics.conflict('notes/1', 'tasks', 'opened')
    plain.metrics.sent(40)
    expect(plain.samples).toEqual([
      {
        name: 'weft.client.ack_latency',
        kind: 'histogram',
        unit: 'ms',
        value: 12,
        attributes: {},
      },
      {
        name: 'weft.client.refusals',
        kind: 'counter',
        unit: '1',
        value: 1,
        attributes: { code: 'FORBIDDEN' },
      },
      {
        name: 'weft.client.conflicts',
        kind: 'counter',
        unit: '1',
        value: 1,
        attributes: { collection: 'tasks', change: 'opened' },
      },
      { name: 'weft.client.bytes_sent', kind: 'counter', unit: 'By', value: 40, attributes: {} },
    ])
    const named = setup({ docNames: true })
    named.metrics.saved('notes/1', 12)
    named.metrics.refused('notes/1', 'FORBIDDEN')
    named.metrics.conflict('notes/1', 'tasks', 'resolved')
    named.metrics.received(9)
    expect(named.samples.map((sample) => sample.attributes)).toEqual([
      { doc: 'notes/1' },
      { code: 'FORBIDDEN', doc: 'notes/1' },
      { collection: 'tasks', change: 'resolved', doc: 'notes/1' },
      {},
    ])
  })

  it('totals saves, latencies, refusals by code, conflicts and bytes', () => {
    const { metrics } = setup()
    metrics.saved('a', 10)
    metrics.saved('a', 30)
    metrics.saved('b', null)
    metrics.refused('a', 'FORBIDDEN')
    metrics.refused('b', 'FORBIDDEN')
    metrics.refused('b', 'DOC_TOO_LARGE')
    metrics.conflict('a', 'tasks', 'opened')
    metrics.conflict('a', 'tasks', 'resolved')
    metrics.conflict('a', 'tasks', 'opened')
    metrics.sent(100)
    metrics.sent(20)
    metrics.received(7)
    expect(metrics.snapshot()).toEqual({
      connects: 0,
      reconnects: 0,
      retries: 0,
      bytesSent: 120,
      bytesReceived: 7,
      saved: 3,
      ackLatencyMs: { count: 2, sum: 40, max: 30 },
      refusals: 3,
      refusalsByCode: { FORBIDDEN: 2, DOC_TOO_LARGE: 1 },
      conflictsOpened: 2,
      conflictsResolved: 1,
      pending: 0,
      oldestPendingAt: null,
      hookErrors: 0,
    })
  })

  it('samples the pending gauges on changes and on a timer only while edits wait', () => {
    const { clock, outbox, metrics, named } = setup()
    metrics.pendingChanged()
    expect(clock.timersWaiting).toBe(0)
    outbox.pending = 2
    outbox.oldestPendingAt = clock.wallNow()
    clock.advance(100)
    metrics.pendingChanged()
    expect(clock.timersWaiting).toBe(1)
    metrics.pendingChanged()
    expect(clock.timersWaiting).toBe(1)
    clock.advance(PENDING_SAMPLE_INTERVAL_MS * 2)
    expect(named('weft.client.pending_age').map((sample) => sample.value)).toEqual([
      0,
      100,
      100,
      100 + PENDING_SAMPLE_INTERVAL_MS,
      100 + PENDING_SAMPLE_INTERVAL_MS * 2,
    ])
    expect(named('weft.client.pending_edits').map((sample) => sample.value)).toEqual([
      0, 2, 2, 2, 2,
    ])
    outbox.pending = 0
    outbox.oldestPendingAt = null
    metrics.pendingChanged()
    expect(clock.timersWaiting).toBe(0)
    expect(named('weft.client.pending_age').at(-1)?.value).toBe(0)
    outbox.pending = 1
    outbox.oldestPendingAt = clock.wallNow()
    metrics.pendingChanged()
    expect(clock.timersWaiting).toBe(1)
    metrics.stop()
    expect(clock.timersWaiting).toBe(0)
    metrics.pendingChanged()
    expect(clock.timersWaiting).toBe(0)
  })

  it('counts a hook that throws and goes on counting', () => {
    const { metrics } = setup({
      hook: () => {
        throw new Error('telemetry down')
      },
    })
    metrics.sent(10)
    metrics.saved('a', 5)
    expect(metrics.snapshot()).toMatchObject({ bytesSent: 10, saved: 1, hookErrors: 2 })
  })
})

describe('createClient metrics options', () => {
  const base = { url: 'ws://127.0.0.1:1', WebSocket, autoConnect: false, tabs: false } as const

  it.each([
    [{ onMetric: 'yes' }, /options\.onMetric must be a function/],
    [{ onMetric: {} }, /options\.onMetric must be a function/],
    [{ onMetric: null }, /options\.onMetric must be a function/],
    [{ metricDocNames: 'true' }, /options\.metricDocNames must be true or false/],
    [{ metricDocNames: 1 }, /options\.metricDocNames must be true or false/],
  ])('refuses %j with INVALID_ARGUMENT', (bad, message) => {
    const create = () => createClient({ ...base, ...(bad as object) })
    expect(create).toThrow(message)
    expect(create).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
  })

  it('starts with zero totals', async () => {
    const client = createClient({ ...base, onMetric: () => {}, metricDocNames: true })
    expect(client.metrics()).toMatchObject({ connects: 0, bytesSent: 0, pending: 0 })
    await client.close()
  })
})

describe('trackConflicts', () => {
  const base = { url: 'ws://127.0.0.1:1', WebSocket, autoConnect: false, tabs: false } as const
  const board = defineSchema({ version: 1, collections: { tasks: { title: field.string() } } })

  it('refuses a handle no open client holds, and what is not a schema', async () => {
    const client = createClient(base)
    const handle = client.open('boards/1')
    expect(() => trackConflicts(handle, null as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
    expect(() => trackConflicts(handle, {} as never)).toThrow(/a schema from defineSchema/)
    const stop = trackConflicts(handle, board)
    stop()
    await handle.close()
    expect(() => trackConflicts(handle, board)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
    expect(() => trackConflicts({} as never, board)).toThrow(/a DocHandle from WeftClient.open/)
    await client.close()
  })
})
