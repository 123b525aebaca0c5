/** RoomSharedLog: what a room sends other relays ahead of its records, and with which life. */
import { describe, expect, it } from 'vitest'
import type { BusMessage } from '../src/relay-bus.js'
import { silentLogger } from '../src/logger.js'
import { MemoryStore } from '../src/memory-store.js'
import { silentMetrics } from '../src/metrics.js'
import { RoomSharedLog } from '../src/room-shared-log.js'

/** A MemoryStore that says it gives documents incarnations, as a shared database does. */
class StoreWithLives extends MemoryStore {
  readonly keepsIncarnations = true
}

const sharedLog = (store: MemoryStore, incarnation: string | undefined) => {
  const sent: BusMessage[] = []
  const log = new RoomSharedLog(
    { name: 'doc', closed: () => false, applyRemote: () => true, deleted: () => {} },
    {
      bus: { id: 'relay-a', publish: (message) => sent.push(message) },
      store,
      logger: silentLogger,
      metrics: silentMetrics,
      headSeq: 0,
      incarnation,
    },
  )
  return { log, sent }
}

const update = Uint8Array.of(0, 0)

describe('updates sent ahead of their records', () => {
  it('wait, on a store with incarnations, until the room knows the life it holds', async () => {
    const store = new StoreWithLives()
    const { log, sent } = sharedLog(store, undefined)
    // Loaded absent: the first record is not written, so the life has no incarnation yet.
    log.publishAhead(update)
    expect(sent).toEqual([])
    const hooks = log.writerOptions()
    hooks.incarnation.learned('7')
    hooks.appended(1, [update])
    log.publishAhead(update)
    expect(sent.map((message) => [message.kind, 'seq' in message && message.seq])).toEqual([
      ['update', 1],
      ['update', 0],
    ])
    expect(sent.every((message) => 'incarnation' in message && message.incarnation === '7')).toBe(
      true,
    )
    log.stop()
    await store.close()
  })

  it('go at once when the room loaded a stored life, or the store has no incarnations', async () => {
    const lives = new StoreWithLives()
    const known = sharedLog(lives, '3')
    known.log.publishAhead(update)
    expect(known.sent).toMatchObject([{ kind: 'update', seq: 0, incarnation: '3' }])

    const plain = new MemoryStore()
    const single = sharedLog(plain, undefined)
    single.log.publishAhead(update)
    expect(single.sent).toMatchObject([{ kind: 'update', seq: 0 }])
    for (const each of [known, single]) each.log.stop()
    await Promise.all([lives.close(), plain.close()])
  })
})
