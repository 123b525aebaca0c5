/** A handle's outbox against the app's bounds: size, bytes and age, with `outbox-limit` on change. */
import { describe, expect, it } from 'vitest'
import type { OutboxState } from '../src/outbox-watch.js'
import { DOC, deliver, makeHandle, RelayDouble, syncWith, type } from './doc-handle-fixture.js'

/** Lets the handle report what a tick changed (`pending` is reported once per tick). */
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))

describe('outbox limits', () => {
  it('reports passing each bound, the age when it comes, and coming back within them', async () => {
    const { handle, owner, clock } = makeHandle({
      ready: false,
      outboxLimits: { edits: 3, bytes: 10_000, ageMs: 60_000 },
    })
    await handle.whenLoaded()
    const reports: OutboxState[] = []
    handle.on('outbox-limit', (state) => reports.push(state))
    const startedAt = clock.wallNow()
    for (const value of ['a', 'b', 'c']) type(handle.doc, value)
    await tick()
    expect(reports).toEqual([])
    expect(handle.outbox).toMatchObject({ pending: 3, oldestPendingAt: startedAt, exceeded: [] })

    clock.advance(1_000)
    type(handle.doc, 'd')
    await tick()
    expect(reports.map((state) => state.exceeded)).toEqual([['edits']])
    expect(reports[0]).toMatchObject({ pending: 4, oldestPendingAt: startedAt })
    expect(reports[0]?.pendingBytes).toBe(handle.pendingBytes)

    // The first edit comes of age with nothing else happening: its timer reports it.
    clock.advance(58_999)
    expect(reports).toHaveLength(1)
    clock.advance(2)
    expect(reports.map((state) => state.exceeded)).toEqual([['edits'], ['edits', 'age']])

    // The relay saves everything: back within every bound.
    await handle.whenStored()
    owner.ready = true
    handle.connectionReady()
    syncWith(handle, owner, new RelayDouble())
    deliver(handle, [{ type: 'saved', doc: DOC, ref: 4, stateVector: new Uint8Array([0]) }])
    await tick()
    expect(handle.pending).toBe(0)
    expect(reports.at(-1)).toEqual({
      pending: 0,
      pendingBytes: 0,
      oldestPendingAt: null,
      exceeded: [],
    })
    expect(clock.timersWaiting).toBe(0)
  })

  it('reports bytes over their bound, and nothing without limits', async () => {
    const limited = makeHandle({ ready: false, outboxLimits: { bytes: 40 } })
    const unlimited = makeHandle({ ready: false })
    const seen: string[][] = []
    limited.handle.on('outbox-limit', (state) => seen.push([...state.exceeded]))
    unlimited.handle.on('outbox-limit', () => seen.push(['unexpected']))
    await Promise.all([limited.handle.whenLoaded(), unlimited.handle.whenLoaded()])
    type(limited.handle.doc, 'x'.repeat(100))
    type(unlimited.handle.doc, 'x'.repeat(100))
    await tick()
    expect(seen).toEqual([['bytes']])
    expect(unlimited.handle.outbox).toMatchObject({ pending: 1, exceeded: [] })
  })
})
