import { createClient } from '@weft/client'
import { MemoryStore, type AppendEntry } from '@weft/server'
import { startTestRelay } from '@weft/testkit'
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { Readiness } from '../src/readiness.js'

/** A store whose writes fail while `full`, like a full disk. */
class FillableStore extends MemoryStore {
  full = false
  override async append(name: string, entries: readonly AppendEntry[]): Promise<number> {
    if (this.full)
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
    return super.append(name, entries)
  }
}

describe('/readyz readiness', () => {
  it('turns not ready on a storage failure seen by the relay, and ready again once a probe write works', async () => {
    const store = new FillableStore()
    const readiness = new Readiness(store)
    const relay = await startTestRelay({
      store,
      metrics: {
        persisted: () => readiness.written(),
        storageFailed: () => readiness.failed(),
      },
    })
    const client = createClient({ url: relay.url, WebSocket: WebSocket })
    try {
      const handle = client.open('doc')
      await handle.whenSynced()
      expect(await readiness.check()).toEqual({ ready: true })

      store.full = true
      const failed = new Promise((resolve) => handle.once('error', resolve))
      handle.doc.getText('t').insert(0, 'x')
      await failed
      const down = await readiness.check()
      expect(down.ready).toBe(false)
      expect(down).toMatchObject({ reason: expect.stringContaining('ENOSPC') })

      // Space is back: the next check's own probe write succeeds, and leaves nothing behind.
      store.full = false
      expect(await readiness.check()).toEqual({ ready: true })
      await handle.whenSaved()
      expect((await store.list()).map((doc) => doc.name)).toEqual(['doc'])

      readiness.stopAccepting()
      expect(await readiness.check()).toEqual({ ready: false, reason: 'stopping' })
    } finally {
      await client.close()
      await relay.close()
    }
  })
})
