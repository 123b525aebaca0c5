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
  })

  it.each([
    [{ url: 'http://localhost' }, /options\.url/],
    [{ url: 42 }, /options\.url/],
    [{ token: 7 }, /options\.token/],
    [{ heartbeatIntervalMs: 0 }, /heartbeatIntervalMs/],
    [{ backoff: { maxMs: -1 } }, /options\.backoff\.maxMs/],
    [{ random: 'no' }, /options\.random/],
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
