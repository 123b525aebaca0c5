/**
 * runLongLogSuite: a DocStore with a log that grows with use, far past what fits in a call's
 * arguments (about 100k): compaction, listing and history must loop, never spread, and fold
 * without Y.mergeUpdates' growth. Every store runs it at a size of its own.
 */
import type { AppendEntry, DocStore } from '@weft/server/store'
import { beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

/** How long the log is: one old record of `oldEntries`, then `recentRecords` of `perRecent`. */
export interface LongLogSizes {
  readonly oldEntries: number
  readonly recentRecords: number
  readonly perRecent: number
}

const HOUR_MS = 3_600_000

const generated = new Map<number, Uint8Array[]>()

/**
 * `count` updates of one writer, one Y.Map key each, so every update matters (generated once per
 * count and process: suites of several stores share them; callers must not modify the list).
 */
export const keyUpdates = (count: number): Uint8Array[] => {
  const known = generated.get(count)
  if (known !== undefined) return known
  const updates: Uint8Array[] = []
  generated.set(count, updates)
  const doc = new Y.Doc()
  doc.clientID = 1
  doc.on('update', (update: Uint8Array) => updates.push(update))
  const map = doc.getMap('m')
  for (let index = 0; index < count; index++) map.set(`k${index}`, index)
  doc.destroy()
  return updates
}

/** Append entries for `updates[from..to)`, received at `receivedAtMs`. */
export const appendEntries = (
  updates: readonly Uint8Array[],
  from: number,
  to: number,
  receivedAtMs: number,
): AppendEntry[] =>
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

/**
 * Defines the suite for the store `open` makes (with a one-hour history window, which it must be
 * given: `historyMs` is passed in).
 */
export const runLongLogSuite = (
  name: string,
  open: (historyMs: number) => Promise<DocStore>,
  sizes: LongLogSizes,
): void => {
  const { oldEntries, recentRecords, perRecent } = sizes
  const total = oldEntries + recentRecords * perRecent
  let updates: Uint8Array[] = []
  beforeAll(() => {
    updates = keyUpdates(total)
  }, 60_000)

  describe(`${name} with a long log`, () => {
    it(`lists, compacts and keeps history of ${total} entries, one record holding ${oldEntries}`, async () => {
      const store = await open(HOUR_MS)
      try {
        const now = Date.now()
        // One record older than the history window, then recent ones.
        await store.append('doc', appendEntries(updates, 0, oldEntries, now - 2 * HOUR_MS))
        for (let record = 0; record < recentRecords; record++) {
          const from = oldEntries + record * perRecent
          await store.append('doc', appendEntries(updates, from, from + perRecent, now + record))
        }
        const [listed] = await store.list()
        expect(listed).toMatchObject({ name: 'doc', logRecords: recentRecords + 1 })
        expect(listed?.lastWriteAtMs).toBe(now + recentRecords - 1)

        const loaded = await store.load('doc')
        expect(loaded.updates).toHaveLength(total)
        const doc = new Y.Doc()
        Y.transact(doc, () => {
          for (const update of loaded.updates) Y.applyUpdate(doc, update)
        })
        await store.compact('doc', Y.encodeStateAsUpdate(doc), loaded.headSeq)

        const after = await store.load('doc')
        expect(after.updates).toHaveLength(0)
        expect(keysOf([after.snapshot as Uint8Array])).toBe(total)
        // The old record went into the history base; the recent ones stay as history records.
        const history = await store.history('doc')
        expect(history.records).toHaveLength(recentRecords)
        const recent = history.records.flatMap((record) => record.entries.map((e) => e.update))
        expect(keysOf([history.base as Uint8Array, ...recent])).toBe(total)
        expect(keysOf([history.base as Uint8Array])).toBe(oldEntries)
        const [compacted] = await store.list()
        expect(compacted).toMatchObject({ name: 'doc', logRecords: 0 })
      } finally {
        await store.close()
      }
    }, 120_000)
  })
}
