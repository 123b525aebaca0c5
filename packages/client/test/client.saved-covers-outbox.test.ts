import { MemoryStore, type AppendEntry, type DocStore } from '@weft/server'
import { startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

/** A memory store that keeps a document built from exactly what it has written. */
class MirroredStore extends MemoryStore implements DocStore {
  readonly written = new Y.Doc()
  override async append(name: string, entries: readonly AppendEntry[]): Promise<number> {
    const seq = await super.append(name, entries)
    for (const entry of entries) Y.applyUpdate(this.written, entry.update)
    return seq
  }
}

let relay: TestRelay

afterEach(async () => {
  await relay.close()
})

describe('saved after a reconnect', () => {
  it('never covers outbox edits the relay has not written, even when a new edit is made while the document opens', async () => {
    const store = new MirroredStore()
    relay = await startTestRelay({ store })
    const client = testClient(relay, { autoConnect: false })
    const handle = client.open('doc')
    await handle.whenLoaded()
    const items = handle.doc.getArray<string>('items')
    for (let n = 0; n < 5; n++) items.push([`offline ${n}`])
    expect(handle.pending).toBe(5)

    // Edit again the moment the document is opened on the new connection, before the relay's
    // sync step 1 has come back: that edit travels ahead of the outbox.
    handle.on('status', (status) => {
      if (status.state === 'syncing' && items.length === 5) items.push(['while opening'])
    })
    const checks: Array<{ ref: number; missing: string[] }> = []
    handle.on('saved', ({ ref, pending }) => {
      const written = store.written.getArray<string>('items').toArray()
      const covered = items.toArray().slice(0, items.length - pending)
      checks.push({ ref, missing: covered.filter((item) => !written.includes(item)) })
    })
    client.connect()
    await handle.whenSaved()
    expect(items.length).toBe(6)
    expect(checks.length).toBeGreaterThan(0)
    for (const check of checks) expect(check.missing, `saved ref ${check.ref}`).toEqual([])
  })
})
