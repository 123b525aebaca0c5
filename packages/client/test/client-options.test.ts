import { describe, expect, it } from 'vitest'
import { resolveClientOptions } from '../src/client-options.js'

class FakeSocket {}
const base = { url: 'ws://localhost:8787', WebSocket: FakeSocket as never }

describe('resolveClientOptions', () => {
  it('fills in defaults', () => {
    const options = resolveClientOptions(base)
    expect(options.heartbeatIntervalMs).toBe(15_000)
    expect(options.backoff.initialMs).toBe(250)
    expect(options.correlationId).toMatch(/^[0-9a-f-]{36}$/)
    expect(options.autoConnect).toBe(true)
    expect(options.backgroundKeepAliveMs).toBe(30_000)
    expect(options.outboxLimits).toBeNull()
    expect(options.outboxCompaction).toEqual({ maxEntries: 1_000, maxBytes: 1_048_576 })
  })

  it('fills in the bounds of outboxCompaction one by one, and takes null for never', () => {
    const merging = resolveClientOptions({ ...base, outboxCompaction: { maxEntries: 50 } })
    expect(merging.outboxCompaction).toEqual({ maxEntries: 50, maxBytes: 1_048_576 })
    expect(resolveClientOptions({ ...base, outboxCompaction: null }).outboxCompaction).toBeNull()
  })

  it.each([
    [{ url: 'http://localhost' }, /options\.url/],
    [{ url: 42 }, /options\.url/],
    [{ token: 7 }, /options\.token/],
    [{ heartbeatIntervalMs: 0 }, /heartbeatIntervalMs/],
    [{ backoff: { maxMs: -1 } }, /options\.backoff\.maxMs/],
    [{ random: 'no' }, /options\.random/],
    [{ backgroundKeepAliveMs: -5 }, /options\.backgroundKeepAliveMs/],
    [{ outboxLimits: 3 }, /options\.outboxLimits must be an object/],
    [{ outboxLimits: { edits: 0 } }, /options\.outboxLimits\.edits must be a positive number/],
    [{ outboxLimits: { size: 10 } }, /options\.outboxLimits\.size is not a limit/],
    [{ outboxCompaction: 5 }, /options\.outboxCompaction must be null or an object/],
    [{ outboxCompaction: { maxEntries: 0 } }, /outboxCompaction\.maxEntries must be a positive/],
    [{ outboxCompaction: { maxBytes: 1.5 } }, /outboxCompaction\.maxBytes must be a positive/],
    [{ outboxCompaction: { edits: 10 } }, /outboxCompaction\.edits is not a bound/],
  ])('refuses %j with INVALID_ARGUMENT naming the option', (override, message) => {
    expect(() => resolveClientOptions({ ...base, ...(override as object) } as never)).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(message),
      }),
    )
  })

  it('explains how to get a WebSocket in Node when there is none', () => {
    const { WebSocket: _, ...withoutSocket } = base
    const global = globalThis as { WebSocket?: unknown }
    const saved = global.WebSocket
    delete global.WebSocket
    try {
      expect(() => resolveClientOptions(withoutSocket)).toThrow(/import \{ WebSocket \} from "ws"/)
    } finally {
      if (saved !== undefined) global.WebSocket = saved
    }
  })
})
