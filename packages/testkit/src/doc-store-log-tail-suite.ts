/** The log-tail part of the store conformance suite: `LogHeads.readLogAfter`, for stores several relays share. */
import type { DocStore, LogHeads } from '@weft/server/store'
import { expect, it } from 'vitest'
import * as Y from 'yjs'

const meta = { author: 'tester', correlationId: '', receivedAtMs: 1_700_000_000_000 }

const keyUpdate = (clientID: number, key: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  doc.getMap('m').set(key, clientID)
  return Y.encodeStateAsUpdate(doc)
}

/** A store offering `readLogAfter`. */
export type LogTailStore = DocStore & Required<Pick<LogHeads, 'readLogAfter'>>

/**
 * Registers the tests of `readLogAfter` (inside the caller's `describe`): `open()` gives a fresh
 * store and `cleanup` closes it.
 */
export const logTailConformanceTests = (
  open: () => Promise<{ store: LogTailStore; cleanup: () => Promise<void> }>,
): void => {
  it('readLogAfter: the records after a sequence number, the head, null once folded', async () => {
    const { store, cleanup } = await open()
    try {
      expect(await store.readLogAfter('doc', 0)).toMatchObject({ updates: [], headSeq: 0 })
      const updates = ['a', 'b', 'c'].map((key, index) => keyUpdate(index + 1, key))
      for (const update of updates) await store.append('doc', [{ update, meta }])

      const bytes = (tail: { updates: readonly Uint8Array[] } | null) =>
        tail?.updates.map((update) => [...update])
      expect(bytes(await store.readLogAfter('doc', 0))).toEqual(bytes({ updates }))
      expect(bytes(await store.readLogAfter('doc', 1))).toEqual(
        bytes({ updates: updates.slice(1) }),
      )
      expect(await store.readLogAfter('doc', 3)).toMatchObject({ updates: [], headSeq: 3 })
      expect((await store.readLogAfter('doc', 1))?.headSeq).toBe(3)

      // Folded through 2: a reader holding less than that must read the whole document.
      await store.compact('doc', Y.mergeUpdates(updates.slice(0, 2)), 2)
      expect(await store.readLogAfter('doc', 1)).toBeNull()
      expect(bytes(await store.readLogAfter('doc', 2))).toEqual(
        bytes({ updates: updates.slice(2) }),
      )

      // The head and incarnation are those a load reports.
      const loaded = await store.load('doc')
      const tail = await store.readLogAfter('doc', 3)
      expect(tail?.headSeq).toBe(loaded.headSeq)
      expect(tail?.incarnation).toBe(loaded.incarnation)

      await store.delete('doc')
      const gone = await store.readLogAfter('doc', 3)
      expect(gone).toMatchObject({ updates: [], headSeq: 0 })
      expect(gone?.incarnation).toBeUndefined()
    } finally {
      await cleanup()
    }
  })
}
