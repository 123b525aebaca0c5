/**
 * PostgresStore while PostgreSQL restarts under it: appends in flight reject retryably or
 * commit, never resolve uncommitted, and the store recovers by itself.
 */
import { WeftError } from '@weft/protocol'
import type { AppendEntry } from '@weft/server/store'
import { startPostgres, type TestPostgres } from '@weft/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { PostgresStore } from '../src/index.js'
import { freshSchema } from './postgres-fixture.js'

let server: TestPostgres
beforeAll(async () => {
  server = await startPostgres()
}, 60_000)
afterAll(async () => {
  await server.stop()
})

const entry = (index: number): AppendEntry => {
  const doc = new Y.Doc()
  doc.clientID = index + 1
  doc.getMap('m').set(`k${index}`, index)
  return {
    update: Y.encodeStateAsUpdate(doc),
    meta: { author: 'w', correlationId: '', receivedAtMs: Date.now() },
  }
}

describe('PostgresStore across a PostgreSQL restart', () => {
  it('acknowledges only committed appends, refuses the rest retryably, and recovers', async () => {
    const schema = freshSchema()
    const store = await PostgresStore.open({ url: server.url, schema, connectTimeoutMs: 500 })
    const acked: number[] = []
    const refused: unknown[] = []
    let next = 0
    let restarted = false
    const writeSome = (): Promise<unknown> =>
      Promise.all(
        Array.from({ length: 8 }, () => {
          const index = next++
          return store.append(`doc-${index % 4}`, [entry(index)]).then(
            () => acked.push(index),
            (error: unknown) => refused.push(error),
          )
        }),
      )
    try {
      const restart = (async () => {
        while (acked.length < 100) await new Promise((resolve) => setImmediate(resolve))
        await server.restart()
        restarted = true
      })()
      // Keep writing through the restart until 100 more appends were acknowledged after it.
      let ackedAtRestart = Number.POSITIVE_INFINITY
      while (acked.length < ackedAtRestart + 100) {
        await writeSome()
        if (restarted && ackedAtRestart === Number.POSITIVE_INFINITY) ackedAtRestart = acked.length
      }
      await restart
      expect(refused.length).toBeGreaterThan(0)
      for (const error of refused) {
        expect(error).toBeInstanceOf(WeftError)
        expect(error).toMatchObject({ code: 'STORAGE_FAILED' })
      }
      // Every acknowledged append is stored, in its document, exactly once.
      const stored = new Map<number, number>()
      for (let doc = 0; doc < 4; doc++) {
        const loaded = await store.load(`doc-${doc}`)
        const seen = new Y.Doc()
        for (const update of loaded.updates) Y.applyUpdate(seen, update)
        for (const key of seen.getMap('m').keys()) {
          const index = Number(key.slice(1))
          stored.set(index, (stored.get(index) ?? 0) + 1)
          expect(index % 4).toBe(doc)
        }
        expect(loaded.headSeq).toBe(loaded.updates.length)
      }
      for (const index of acked) expect(stored.get(index), `append ${index}`).toBe(1)
      console.log(
        `restart: ${acked.length} acknowledged, ${refused.length} refused, ${stored.size - acked.length} committed without an acknowledgement`,
      )
    } finally {
      await store.close()
    }
  }, 60_000)
})
