/** An edit reaches the other relay's clients without waiting for the store, as it reaches its own relay's. */
import {
  ForwardingStore,
  type AppendEntry,
  type AppendOptions,
  type FeedChange,
} from '@weft/server'
import { startRedis, testClient, untilSameState, type TestRedis } from '@weft/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRelayPair } from './support.js'

let redis: TestRedis

beforeAll(async () => {
  redis = await startRedis()
}, 300_000)

afterAll(async () => {
  await redis?.stop()
})

/** A store whose appends wait until `release()`. */
class HeldStore extends ForwardingStore {
  #released!: () => void
  readonly #gate = new Promise<void>((resolve) => {
    this.#released = resolve
  })
  held = 0

  release(): void {
    this.#released()
  }

  override async append(
    name: string,
    entries: readonly AppendEntry[],
    changes?: readonly FeedChange[],
    options?: AppendOptions,
  ): Promise<number> {
    this.held += 1
    await this.#gate
    return this.inner.append(name, entries, changes, options)
  }
}

describe('an edit on one relay', () => {
  it("reaches the other relay's clients before it is durable, and its record follows", async () => {
    let held: HeldStore | undefined
    const { a, b, store } = await startRelayPair(redis.url, {
      storeA: (shared) => (held = new HeldStore(shared)),
    })
    const writer = testClient(a).open('ahead')
    const reader = testClient(b).open('ahead')
    await Promise.all([writer.whenSynced(), reader.whenSynced()])

    writer.doc.getText('t').insert(0, 'not saved yet')
    await untilSameState([writer.doc, reader.doc], 5_000)
    expect(reader.doc.getText('t').toString()).toBe('not saved yet')
    // Nothing is durable: A's append waits, the writer has no `saved`, the store is empty.
    expect(held!.held).toBe(1)
    expect(writer.pending).toBeGreaterThan(0)
    expect((await store.load('ahead')).headSeq).toBe(0)

    held!.release()
    await writer.whenSaved()
    expect((await store.load('ahead')).headSeq).toBe(1)
    writer.doc.getText('t').insert(0, 'then ')
    await writer.whenSaved()
    await untilSameState([writer.doc, reader.doc], 5_000)
    expect(reader.doc.getText('t').toString()).toBe('then not saved yet')
  })
})
