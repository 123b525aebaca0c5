import { MemoryStore, type AppendEntry } from '@weft/server'
import { startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'

/** A MemoryStore whose appends wait until the test releases them. */
class SlowStore extends MemoryStore {
  #release!: () => void
  readonly #released = new Promise<void>((resolve) => (this.#release = resolve))
  #started!: () => void
  readonly appending = new Promise<void>((resolve) => (this.#started = resolve))
  appended = 0

  release(): void {
    this.#release()
  }

  override async append(name: string, entries: readonly AppendEntry[]): Promise<number> {
    this.#started()
    await this.#released
    const seq = await super.append(name, entries)
    this.appended += 1
    return seq
  }
}

let relay: TestRelay

afterEach(async () => {
  await relay.close()
})

describe('Relay.whenDurable()', () => {
  it('resolves only once what the relay received is written', async () => {
    const store = new SlowStore()
    relay = await startTestRelay({ store })
    const handle = testClient(relay).open('doc')
    await handle.whenSynced()
    handle.doc.getText('t').insert(0, 'durable')
    await store.appending
    let durable = false
    const waiting = relay.relay.whenDurable().then(() => (durable = true))
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(durable).toBe(false)
    store.release()
    await waiting
    expect(store.appended).toBe(1)
    expect((await store.load('doc')).updates.length).toBe(1)
  })

  it('resolves at once with nothing loaded', async () => {
    relay = await startTestRelay({ store: new MemoryStore() })
    testClient(relay, { autoConnect: false })
    await expect(relay.relay.whenDurable()).resolves.toBeUndefined()
  })
})
