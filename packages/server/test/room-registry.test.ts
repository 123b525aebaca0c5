import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { silentLogger } from '../src/logger.js'
import { silentMetrics } from '../src/metrics.js'
import { RoomRegistry } from '../src/room-registry.js'
import { ControlledStore, deferred, RecordingPeer } from './fakes.js'

const registryOn = (store: ControlledStore, unloadGraceMs = 1000): RoomRegistry =>
  new RoomRegistry({
    store,
    logger: silentLogger,
    metrics: silentMetrics,
    compactAfterUpdates: 1000,
    compactAfterBytes: 1 << 24,
    unloadGraceMs,
  })

afterEach(() => {
  vi.useRealTimers()
})

describe('RoomRegistry', () => {
  it('loads a document once however many peers race to open it', async () => {
    const store = new ControlledStore()
    const gate = deferred()
    store.loadGate = gate.promise
    const registry = registryOn(store)
    const peers = Array.from({ length: 50 }, (_, index) => new RecordingPeer(`p${index}`))
    const acquiring = peers.map((peer) => registry.acquire('doc', peer))
    gate.resolve()
    const rooms = await Promise.all(acquiring)
    expect(store.loads).toBe(1)
    expect(new Set(rooms).size).toBe(1)
    expect(rooms[0]?.peerCount).toBe(50)
    await registry.close()
  })

  it('refuses every waiter of a failed load with a retryable code, then loads afresh', async () => {
    const store = new ControlledStore()
    await store.memory.append('doc', [
      { update: textUpdate('data'), meta: { author: '', correlationId: '', receivedAtMs: 0 } },
    ])
    store.failLoads = true
    const registry = registryOn(store)
    const results = await Promise.allSettled(
      [1, 2, 3].map(() => registry.acquire('doc', new RecordingPeer())),
    )
    for (const result of results) {
      expect(result.status).toBe('rejected')
      expect((result as PromiseRejectedResult).reason).toMatchObject({
        code: 'UNAVAILABLE',
        retry: 'retry',
      })
    }
    expect(store.loads).toBe(1)
    expect(registry.size).toBe(0)
    store.failLoads = false
    const room = await registry.acquire('doc', new RecordingPeer())
    expect(store.loads).toBe(2)
    expect(room.doc.getText('t').toString()).toBe('data')
    await registry.close()
  })

  it('unloads a room after the grace period once its last peer left, and not before', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const store = new ControlledStore()
    const registry = registryOn(store, 1000)
    const peer = new RecordingPeer()
    const room = await registry.acquire('doc', peer)
    room.applyUpdate(peer, textUpdate('x'), 1)
    registry.release(room, peer)
    vi.advanceTimersByTime(999)
    const again = new RecordingPeer()
    expect(await registry.acquire('doc', again)).toBe(room)
    registry.release(room, again)
    vi.advanceTimersByTime(1000)
    const reloaded = await registry.acquire('doc', new RecordingPeer())
    expect(reloaded).not.toBe(room)
    expect(store.loads).toBe(2)
    // The unload waited for the write and compacted it.
    expect(store.compactions).toBe(1)
    expect(reloaded.doc.getText('t').toString()).toBe('x')
    await registry.close()
  })
})

function textUpdate(text: string): Uint8Array {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}
