import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryStore, type AppendEntry, type DocStore } from '@weft/server'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { LevelStore } from '../src/level-store.js'

// Logs that grow with use, far past what fits in a call's arguments (about 100k): compaction,
// listing and history must loop, never spread, and fold without Y.mergeUpdates' growth.
const OLD_ENTRIES = 200_000
const RECENT_RECORDS = 10
const PER_RECENT_RECORD = 10_000
const TOTAL = OLD_ENTRIES + RECENT_RECORDS * PER_RECENT_RECORD
const HOUR_MS = 3_600_000

/** One update per map key, from one writer: a history in which every update matters. */
let updates: Uint8Array[] = []
beforeAll(() => {
  const doc = new Y.Doc()
  doc.clientID = 1
  doc.on('update', (update: Uint8Array) => updates.push(update))
  const map = doc.getMap('m')
  for (let index = 0; index < TOTAL; index++) map.set(`k${index}`, index)
  doc.destroy()
}, 60_000)

let path: string
beforeEach(async () => {
  path = await mkdtemp(join(tmpdir(), 'weft-long-log-'))
})
afterEach(async () => {
  await rm(path, { recursive: true, force: true })
})

const entries = (from: number, to: number, receivedAtMs: number): AppendEntry[] =>
  updates.slice(from, to).map((update) => ({
    update,
    meta: { author: 'writer', correlationId: '', receivedAtMs },
  }))

const keysOf = (parts: readonly Uint8Array[]): number => {
  const doc = new Y.Doc({ gc: false })
  Y.transact(doc, () => {
    for (const part of parts) Y.applyUpdate(doc, part)
  })
  return doc.getMap('m').size
}

const stores: Array<[string, () => Promise<DocStore>]> = [
  ['LevelStore', () => LevelStore.open({ path, historyMs: HOUR_MS })],
  ['MemoryStore', async () => new MemoryStore({ historyMs: HOUR_MS })],
]

describe.each(stores)('%s with a long log', (_name, open) => {
  it(`lists, compacts and keeps history of ${TOTAL} entries, one record holding ${OLD_ENTRIES}`, async () => {
    const store = await open()
    try {
      const now = Date.now()
      // One record of 200,000 entries older than the history window, then recent ones.
      await store.append('doc', entries(0, OLD_ENTRIES, now - 2 * HOUR_MS))
      for (let record = 0; record < RECENT_RECORDS; record++) {
        const from = OLD_ENTRIES + record * PER_RECENT_RECORD
        await store.append('doc', entries(from, from + PER_RECENT_RECORD, now + record))
      }
      const [listed] = await store.list()
      expect(listed).toMatchObject({ name: 'doc', logRecords: RECENT_RECORDS + 1 })
      expect(listed?.lastWriteAtMs).toBe(now + RECENT_RECORDS - 1)

      const loaded = await store.load('doc')
      expect(loaded.updates).toHaveLength(TOTAL)
      const doc = new Y.Doc()
      Y.transact(doc, () => {
        for (const update of loaded.updates) Y.applyUpdate(doc, update)
      })
      await store.compact('doc', Y.encodeStateAsUpdate(doc), loaded.headSeq)

      const after = await store.load('doc')
      expect(after.updates).toHaveLength(0)
      expect(keysOf([after.snapshot as Uint8Array])).toBe(TOTAL)
      // The old record went into the history base; the recent ones stay as history records.
      const history = await store.history('doc')
      expect(history.records).toHaveLength(RECENT_RECORDS)
      const recent = history.records.flatMap((record) => record.entries.map((e) => e.update))
      expect(keysOf([history.base as Uint8Array, ...recent])).toBe(TOTAL)
      expect(keysOf([history.base as Uint8Array])).toBe(OLD_ENTRIES)
      const [compacted] = await store.list()
      expect(compacted).toMatchObject({ name: 'doc', logRecords: 0 })
    } finally {
      await store.close()
    }
  }, 120_000)
})
