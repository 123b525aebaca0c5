/** runSharedLocalStoreSuite: conformance of a LocalStore whose storage several openers (tabs) share at once. */
import type { LocalDoc, LocalStore, OutboxRecord } from '../local-store.js'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

/** Several openers of one storage, as the tabs of one browser profile are. */
export interface SharedLocalStoreFixture {
  /**
   * Opens one more opener of the storage. `'new'` is a fresh writer; `'tab'` resumes the writer
   * this context used last when no opener holds it (LevelLocalStore's `writer` option).
   */
  readonly open: (writer: 'tab' | 'new') => Promise<LocalStore>
  /** Releases everything (openers still open, data…). */
  readonly cleanup: () => Promise<void>
}

/** An update setting `m[key]` in a fresh doc with `clientID`: each edit is told by its key. */
const edit = (clientID: number, key: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  doc.getMap('m').set(key, true)
  return Y.encodeStateAsUpdate(doc)
}

const record = (ref: number, update: Uint8Array): OutboxRecord => ({ ref, update })

/** The sorted keys of `m` once the snapshot and every update are applied. */
const keysOf = (loaded: LocalDoc): string[] => {
  const doc = new Y.Doc()
  if (loaded.snapshot !== null) Y.applyUpdate(doc, loaded.snapshot)
  for (const update of loaded.updates) Y.applyUpdate(doc, update)
  return [...doc.getMap('m').keys()].sort()
}

const snapshotOf = (updates: readonly Uint8Array[]): Uint8Array => {
  const doc = new Y.Doc()
  for (const update of updates) Y.applyUpdate(doc, update)
  return Y.encodeStateAsUpdate(doc)
}

/** `count` edits labelled `<prefix>0`, `<prefix>1`…, with client ids from `firstClient`. */
const edits = (prefix: string, count: number, firstClient: number): Uint8Array[] =>
  Array.from({ length: count }, (_, index) => edit(firstClient + index, `${prefix}${index}`))

/**
 * Registers the shared-storage conformance tests: writes of several openers interleaved or at
 * once, a compaction by one while another writes, adoption of a closed opener's outbox, a writer
 * resuming its own data after a reload, and `openSibling`. A store passes only if no opener can
 * overwrite, compact away or delete what another live opener stored. LevelLocalStore needs the
 * Web Locks API for it, so this suite runs in browsers.
 */
export const runSharedLocalStoreSuite = (
  name: string,
  makeFixture: () => Promise<SharedLocalStoreFixture>,
): void => {
  describe(`LocalStore conformance, shared storage: ${name}`, () => {
    let fixture: SharedLocalStoreFixture | null = null
    const open = async (): Promise<SharedLocalStoreFixture> => (fixture = await makeFixture())
    afterEach(async () => {
      await fixture?.cleanup()
      fixture = null
    })

    it("keeps each opener's outbox and lastRef through interleaved writes; both see all", async () => {
      const shared = await open()
      const a = await shared.open('tab')
      const b = await shared.open('new')
      const [a1, a2] = edits('a', 2, 100)
      const [b1, b2] = edits('b', 2, 200)
      await a.write('doc', { updates: [a1!], outboxAdd: [record(1, a1!)] })
      await b.write('doc', { updates: [b1!], outboxAdd: [record(1, b1!)] })
      await a.write('doc', { updates: [a2!], outboxAdd: [record(2, a2!)] })
      await b.write('doc', { updates: [b2!], outboxAdd: [record(2, b2!)] })
      await b.write('doc', { outboxRemove: [1] })
      const loadedA = await a.load('doc')
      const loadedB = await b.load('doc')
      expect(loadedA.outbox).toEqual([record(1, a1!), record(2, a2!)])
      expect(loadedA.lastRef).toBe(2)
      expect(loadedB.outbox).toEqual([record(2, b2!)])
      expect(loadedB.lastRef).toBe(2)
      for (const loaded of [loadedA, loadedB])
        expect(keysOf(loaded)).toEqual(['a0', 'a1', 'b0', 'b1'])
    })

    it('a compaction by one opener keeps what another wrote and it never loaded', async () => {
      const shared = await open()
      const a = await shared.open('tab')
      const b = await shared.open('new')
      const [a1, a2] = edits('a', 2, 100)
      const bs = edits('b', 3, 200)
      expect(keysOf(await a.load('doc'))).toEqual([])
      await a.write('doc', { updates: [a1!] })
      await b.write('doc', { updates: bs, outboxAdd: [record(1, bs[0]!)] })
      // The snapshot includes what `a` loaded and wrote, nothing of `b`.
      await a.compact('doc', snapshotOf([a1!]))
      await a.write('doc', { updates: [a2!] })
      const all = ['a0', 'a1', 'b0', 'b1', 'b2']
      const loadedB = await b.load('doc')
      expect(keysOf(loadedB)).toEqual(all)
      expect(loadedB.outbox).toEqual([record(1, bs[0]!)])
      const loadedA = await a.load('doc')
      expect(loadedA.snapshot).toEqual(snapshotOf([a1!]))
      expect(keysOf(loadedA)).toEqual(all)
      expect(keysOf(await (await shared.open('new')).load('doc'))).toEqual(all)
    })

    it("adopts a closed opener's outbox above the adopter's lastRef, and its keys are gone", async () => {
      const shared = await open()
      const a = await shared.open('tab')
      const b = await shared.open('new')
      const [b1] = edits('b', 1, 200)
      const as = edits('a', 3, 100)
      await b.write('doc', { updates: [b1!], outboxAdd: [record(1, b1!)] })
      await a.write('doc', { updates: as, outboxAdd: as.map((update, i) => record(i + 1, update)) })
      await a.write('doc', { outboxRemove: [2] })
      await a.compact('doc', snapshotOf(as))
      await a.write('doc', { updates: [edit(300, 'a-late')] })
      await a.close()
      const loaded = await b.load('doc')
      expect(loaded.outbox[0]).toEqual(record(1, b1!))
      const adopted = loaded.outbox.slice(1)
      expect(adopted.map(({ update }) => update)).toEqual([as[0], as[2]])
      expect(adopted[0]!.ref).toBeGreaterThan(1)
      expect(adopted[1]!.ref).toBeGreaterThan(adopted[0]!.ref)
      expect(loaded.lastRef).toBeGreaterThanOrEqual(adopted[1]!.ref)
      expect(keysOf(loaded)).toEqual(['a-late', 'a0', 'a1', 'a2', 'b0'])
      // Adopted for good: the next load returns them again as b's own, nothing twice.
      const again = await b.load('doc')
      expect(again.outbox).toEqual(loaded.outbox)
      expect(again.lastRef).toBe(loaded.lastRef)
      await b.write('doc', { outboxRemove: loaded.outbox.map(({ ref }) => ref) })
      // Nothing of `a` is left to adopt: a third opener finds no outbox record at all.
      const third = await (await shared.open('new')).load('doc')
      expect(third.outbox).toEqual([])
      expect(keysOf(third)).toEqual(['a-late', 'a0', 'a1', 'a2', 'b0'])
    })

    it('gives a writer that reloads its own data back: snapshot, updates and lastRef', async () => {
      const shared = await open()
      const a = await shared.open('tab')
      const b = await shared.open('new')
      const [a1, a2] = edits('a', 2, 100)
      await a.write('doc', { updates: [a1!], outboxAdd: [record(1, a1!)] })
      await a.compact('doc', snapshotOf([a1!]))
      await a.write('doc', { updates: [a2!], outboxAdd: [record(2, a2!)] })
      await a.write('doc', { outboxRemove: [1] })
      await b.write('doc', { updates: [edit(200, 'b0')] })
      await a.close()
      const reloaded = await shared.open('tab')
      const loaded = await reloaded.load('doc')
      // Its own snapshot comes back as the snapshot, not as an update adopted from someone else.
      expect(loaded.snapshot).toEqual(snapshotOf([a1!]))
      expect(loaded.updates[0]).toEqual(a2)
      expect(loaded.outbox).toEqual([record(2, a2!)])
      expect(loaded.lastRef).toBe(2)
      expect(keysOf(loaded)).toEqual(['a0', 'a1', 'b0'])
    })

    it('loses nothing when both openers write one document many times in one tick', async () => {
      const shared = await open()
      const a = await shared.open('tab')
      const b = await shared.open('new')
      const count = 25
      const fromA = edits('a', count, 1000)
      const fromB = edits('b', count, 2000)
      const writes: Promise<void>[] = []
      for (let i = 0; i < count; i++) {
        writes.push(a.write('doc', { updates: [fromA[i]!], outboxAdd: [record(i + 1, fromA[i]!)] }))
        writes.push(b.write('doc', { updates: [fromB[i]!], outboxAdd: [record(i + 1, fromB[i]!)] }))
      }
      await Promise.all(writes)
      const all = keysOf({ snapshot: null, updates: fromA.concat(fromB), outbox: [], lastRef: 0 })
      expect(all).toHaveLength(2 * count)
      for (const [store, own] of [
        [a, fromA],
        [b, fromB],
      ] as const) {
        const loaded = await store.load('doc')
        expect(loaded.outbox).toEqual(own.map((update, i) => record(i + 1, update)))
        expect(loaded.lastRef).toBe(count)
        expect(keysOf(loaded)).toEqual(all)
      }
      await a.close()
      await b.close()
      const adopted = await (await shared.open('new')).load('doc')
      expect(keysOf(adopted)).toEqual(all)
      expect(new Set(adopted.outbox.map(({ ref }) => ref)).size).toBe(2 * count)
      const sent = adopted.outbox.map(
        ({ update }) => keysOf({ ...adopted, snapshot: null, updates: [update] })[0],
      )
      expect(sent.sort()).toEqual(all)
    })

    it('opens a sibling writer with openSibling, which keeps its own outbox', async () => {
      const shared = await open()
      const a = await shared.open('tab')
      expect(a.openSibling).toBeTypeOf('function')
      const sibling = await a.openSibling!()
      try {
        const [a1] = edits('a', 1, 100)
        const [s1] = edits('s', 1, 200)
        await a.write('doc', { updates: [a1!], outboxAdd: [record(1, a1!)] })
        await sibling.write('doc', { updates: [s1!], outboxAdd: [record(1, s1!)] })
        const loaded = await a.load('doc')
        expect(loaded.outbox).toEqual([record(1, a1!)])
        expect(keysOf(loaded)).toEqual(['a0', 's0'])
        expect((await sibling.load('doc')).outbox).toEqual([record(1, s1!)])
      } finally {
        await sibling.close()
      }
    })
  })
}
