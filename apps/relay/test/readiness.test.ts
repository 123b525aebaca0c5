import { createClient } from '@weft/client'
import { MemoryStore, type AppendEntry } from '@weft/server'
import { startTestRelay } from '@weft/testkit'
import { describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { Readiness, readinessText } from '../src/readiness.js'

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
      expect(await readiness.check()).toEqual({
        ready: true,
        dependencies: [{ name: 'store', state: 'up' }],
      })

      store.full = true
      const failed = new Promise((resolve) => handle.once('error', resolve))
      handle.doc.getText('t').insert(0, 'x')
      await failed
      const down = await readiness.check()
      expect(down.ready).toBe(false)
      expect(down).toMatchObject({
        reason: expect.stringContaining('ENOSPC'),
        dependencies: [{ name: 'store', state: 'failing' }],
      })

      // Space is back: the next check's own probe write succeeds, and leaves nothing behind.
      store.full = false
      expect(await readiness.check()).toMatchObject({ ready: true })
      await handle.whenSaved()
      expect((await store.list()).map((doc) => doc.name)).toEqual(['doc'])

      readiness.stopAccepting()
      expect(await readiness.check()).toEqual({
        ready: false,
        reason: 'stopping',
        dependencies: [],
      })
    } finally {
      await client.close()
      await relay.close()
    }
  })
})

describe('/readyz names each dependency', () => {
  it('PostgreSQL and Redis each up or down: PostgreSQL down makes the relay unready, Redis down only degraded', async () => {
    let postgresUp = true
    let redisUp = true
    const readiness = new Readiness(new MemoryStore(), {
      storeName: 'postgres',
      probe: () =>
        postgresUp ? Promise.resolve() : Promise.reject(new Error('connect ECONNREFUSED')),
      probeCacheMs: 0,
      bus: { name: 'redis', up: () => redisUp },
    })
    const body = async () => {
      const state = await readiness.check()
      return { ready: state.ready, text: readinessText(state) }
    }
    expect(await body()).toEqual({ ready: true, text: 'ready\npostgres: up\nredis: up\n' })

    redisUp = false
    expect(await body()).toEqual({
      ready: true,
      text:
        "ready (redis down: serving this relay's clients, other relays' edits arrive once it " +
        'returns)\npostgres: up\nredis: down\n',
    })

    postgresUp = false
    redisUp = true
    expect(await body()).toEqual({
      ready: false,
      text: 'store unreachable: Error: connect ECONNREFUSED\npostgres: down\nredis: up\n',
    })

    postgresUp = true
    expect(await body()).toEqual({ ready: true, text: 'ready\npostgres: up\nredis: up\n' })
    readiness.stopAccepting()
    expect(await body()).toEqual({ ready: false, text: 'stopping\nredis: up\n' })
  })

  it('a relay on its own names only its store', async () => {
    const readiness = new Readiness(new MemoryStore(), { storeName: 'leveldb' })
    expect(readinessText(await readiness.check())).toBe('ready\nleveldb: up\n')
  })
})
