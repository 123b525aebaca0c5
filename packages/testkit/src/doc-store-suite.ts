/** runDocStoreSuite: the conformance suite every DocStore implementation must pass. */
import type { AppendEntry, DocStore, LogHeads } from '@weft/server/store'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { compactionConformanceTests } from './doc-store-compaction-suite.js'
import { durableFeedTest, feedConformanceTests } from './doc-store-feed-suite.js'

/** A store under test, and how to reopen it on the same data (for durable stores). */
export interface StoreFixture {
  readonly store: DocStore
  /** Opens a second instance on the same data (after `store` was closed); durable stores only. */
  readonly reopen?: () => Promise<DocStore>
  /** Releases everything (data directories…). */
  readonly cleanup: () => Promise<void>
}

const meta = { author: 'tester', correlationId: 'c-1', receivedAtMs: 1_700_000_000_000 }

/** An update inserting `text` at the end of the text `t` of a fresh doc with `clientID`. */
const textUpdate = (clientID: number, text: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

const entry = (update: Uint8Array): AppendEntry => ({ update, meta })

const textOf = (snapshot: Uint8Array | null, updates: readonly Uint8Array[]): string => {
  const doc = new Y.Doc()
  if (snapshot !== null) Y.applyUpdate(doc, snapshot)
  for (const update of updates) Y.applyUpdate(doc, update)
  return doc.getText('t').toString()
}

/**
 * Registers the DocStore conformance tests for one implementation; `durable` stores also get
 * the reopen test.
 */
export const runDocStoreSuite = (
  name: string,
  makeFixture: (options: { historyMs: number }) => Promise<StoreFixture>,
  options: { durable: boolean },
): void => {
  describe(`DocStore conformance: ${name}`, () => {
    let fixture: StoreFixture | null = null
    const open = async (historyMs = 0): Promise<StoreFixture> =>
      (fixture = await makeFixture({ historyMs }))
    afterEach(async () => {
      await fixture?.cleanup()
      fixture = null
    })

    it('loads an unknown document as empty', async () => {
      const { store } = await open()
      expect(await store.load('never-written')).toEqual({
        snapshot: null,
        updates: [],
        headSeq: 0,
        logBytes: 0,
      })
    })

    it('returns appended updates byte for byte, in order, one record per append', async () => {
      const { store } = await open()
      const updates = [textUpdate(1, 'a'), textUpdate(2, 'b'), textUpdate(3, 'c')]
      expect(await store.append('doc', [entry(updates[0]!), entry(updates[1]!)])).toBe(1)
      expect(await store.append('doc', [entry(updates[2]!)])).toBe(2)
      const loaded = await store.load('doc')
      expect(loaded.updates).toEqual(updates)
      expect(loaded.headSeq).toBe(2)
      expect(loaded.logBytes).toBe(updates.reduce((sum, update) => sum + update.length, 0))
    })

    it('keeps documents apart, including names that look like key separators', async () => {
      const { store } = await open()
      const names = ['a', 'ab', 'a:b', 'a%3Ab', 'a/b', 'a:log:0000000000000001', 'ünï 🧵']
      for (const [index, docName] of names.entries())
        await store.append(docName, [entry(textUpdate(index + 1, docName))])
      for (const docName of names) {
        const loaded = await store.load(docName)
        expect(loaded.updates).toHaveLength(1)
        expect(textOf(null, loaded.updates)).toBe(docName)
      }
    })

    it('loads what was appended before, even while that append is still being written', async () => {
      const { store } = await open()
      const appended = store.append('doc', [entry(textUpdate(1, 'in flight'))])
      const other = store.append('other', [entry(textUpdate(2, 'elsewhere'))])
      const loaded = await store.load('doc')
      expect(textOf(loaded.snapshot, loaded.updates)).toBe('in flight')
      await Promise.all([appended, other])
    })

    it('resolves appends in call order across documents', async () => {
      const { store } = await open()
      const order: number[] = []
      const appends = Array.from({ length: 40 }, (_, index) =>
        store
          .append(`doc-${index % 7}`, [entry(textUpdate(index + 1, 'x'))])
          .then(() => order.push(index)),
      )
      await Promise.all(appends)
      expect(order).toEqual([...order].sort((a, b) => a - b))
    })

    it('compaction replaces the log up to a sequence number with a snapshot', async () => {
      const { store } = await open()
      const doc = new Y.Doc()
      const text = doc.getText('t')
      const updates: Uint8Array[] = []
      doc.on('update', (update: Uint8Array) => updates.push(update))
      for (const char of 'hello') text.insert(text.length, char)
      await store.append('doc', updates.slice(0, 2).map(entry))
      await store.append('doc', updates.slice(2, 3).map(entry))
      await store.append('doc', updates.slice(3).map(entry))
      const snapshotDoc = new Y.Doc()
      for (const update of updates.slice(0, 3)) Y.applyUpdate(snapshotDoc, update)
      await store.compact('doc', Y.encodeStateAsUpdate(snapshotDoc), 2)
      const loaded = await store.load('doc')
      expect(loaded.snapshot).not.toBeNull()
      expect(loaded.updates).toEqual(updates.slice(3))
      expect(loaded.headSeq).toBe(3)
      expect(textOf(loaded.snapshot, loaded.updates)).toBe('hello')
    })

    it('continues sequence numbers after compaction removed the whole log', async () => {
      const { store } = await open()
      await store.append('doc', [entry(textUpdate(1, 'a'))])
      await store.append('doc', [entry(textUpdate(2, 'b'))])
      await store.compact('doc', textUpdate(1, 'a'), 2)
      expect(await store.append('doc', [entry(textUpdate(3, 'c'))])).toBe(3)
    })

    it('reads a head alone (where it offers LogHeads) as load would report it', async () => {
      const { store } = await open()
      const heads = store as Partial<LogHeads>
      if (heads.headSeq === undefined) return
      const headOf = (docName: string): Promise<number> =>
        (heads.headSeq as (name: string) => Promise<number>).call(store, docName)
      expect(await headOf('doc')).toBe(0)
      await store.append('doc', [entry(textUpdate(1, 'a'))])
      // Not yet resolved: the head covers it once it is durable, as a load would.
      const second = store.append('doc', [entry(textUpdate(2, 'b'))])
      expect(await headOf('doc')).toBeGreaterThanOrEqual(1)
      expect(await second).toBe(2)
      expect(await headOf('doc')).toBe(2)
      await store.compact('doc', textUpdate(1, 'a'), 1)
      expect(await headOf('doc')).toBe(2)
      expect(await headOf('other')).toBe(0)
      await store.delete('doc')
      expect(await headOf('doc')).toBe(0)
    })

    it('lists every document with its sizes, log length and last write', async () => {
      const { store } = await open()
      expect(await store.list()).toEqual([])
      const later = { ...meta, receivedAtMs: meta.receivedAtMs + 5_000 }
      await store.append('a:b/c', [entry(textUpdate(1, 'abc'))])
      await store.append('a:b/c', [{ update: textUpdate(2, 'def'), meta: later }])
      await store.append('other', [entry(textUpdate(3, 'xyz'))])
      await store.append('folded', [entry(textUpdate(4, 'f'))])
      const beforeCompaction = Date.now()
      await store.compact('folded', textUpdate(4, 'f'), 1)
      const listed = new Map((await store.list()).map((doc) => [doc.name, doc]))
      expect([...listed.keys()].sort()).toEqual(['a:b/c', 'folded', 'other'])
      expect(listed.get('a:b/c')).toMatchObject({
        snapshotBytes: 0,
        logRecords: 2,
        lastWriteAtMs: later.receivedAtMs,
      })
      expect(listed.get('a:b/c')?.logBytes).toBeGreaterThan(0)
      expect(listed.get('folded')).toMatchObject({ logRecords: 0, logBytes: 0 })
      expect(listed.get('folded')?.snapshotBytes).toBeGreaterThan(0)
      expect(listed.get('folded')?.lastWriteAtMs).toBeGreaterThanOrEqual(beforeCompaction)
      expect(listed.get('folded')?.snapshotAtMs).toBeGreaterThanOrEqual(beforeCompaction)
      expect(listed.get('other')?.snapshotAtMs).toBeNull()
    })

    it('deletes one document entirely: it loads empty, is not listed, and numbers again from 1', async () => {
      const { store } = await open()
      await store.append('gone', [entry(textUpdate(1, 'abc'))])
      await store.append('gone', [entry(textUpdate(2, 'def'))])
      await store.compact('gone', textUpdate(1, 'abc'), 1)
      await store.append('kept', [entry(textUpdate(3, 'xyz'))])
      await store.delete('gone')
      expect(await store.load('gone')).toEqual({
        snapshot: null,
        updates: [],
        headSeq: 0,
        logBytes: 0,
      })
      expect((await store.list()).map((doc) => doc.name)).toEqual(['kept'])
      expect(textOf(null, (await store.load('kept')).updates)).toBe('xyz')
      expect(await store.append('gone', [entry(textUpdate(4, 'new'))])).toBe(1)
      expect(textOf(null, (await store.load('gone')).updates)).toBe('new')
      await store.delete('never-written')
    })

    it('without a history window, history is the snapshot and the log', async () => {
      const { store } = await open()
      expect(await store.history('none')).toEqual({ base: null, records: [] })
      await store.append('doc', [entry(textUpdate(1, 'abc'))])
      await store.append('doc', [{ update: textUpdate(2, 'def'), meta: { ...meta, author: 'bo' } }])
      let history = await store.history('doc')
      expect(history.base).toBeNull()
      expect(history.records.map((record) => record.seq)).toEqual([1, 2])
      expect(history.records[1]?.entries[0]?.meta).toEqual({ ...meta, author: 'bo' })
      await store.compact('doc', textUpdate(1, 'abc'), 1)
      history = await store.history('doc')
      expect(history.records.map((record) => record.seq)).toEqual([2])
      expect(
        textOf(
          history.base,
          history.records.flatMap((r) => r.entries.map((e) => e.update)),
        ),
      ).toBe('abcdef')
    })

    it('with a history window, keeps folded records and merges older ones into the base', async () => {
      const { store } = await open(60_000)
      const now = Date.now()
      const at = (receivedAtMs: number, update: Uint8Array): AppendEntry => ({
        update,
        meta: { ...meta, receivedAtMs },
      })
      await store.append('doc', [at(now - 120_000, textUpdate(1, 'old'))])
      await store.append('doc', [at(now - 1_000, textUpdate(2, 'new'))])
      await store.append('doc', [at(now, textUpdate(3, '!'))])
      await store.compact('doc', textUpdate(1, 'x'), 2)
      const history = await store.history('doc')
      // Record 1 is older than the window: merged into the base; 2 was folded but kept; 3 is the log.
      expect(history.records.map((record) => record.seq)).toEqual([2, 3])
      expect(history.records[0]?.entries[0]?.meta.receivedAtMs).toBe(now - 1_000)
      expect(textOf(history.base, [])).toBe('old')
      const all = history.records.flatMap((record) => record.entries.map((e) => e.update))
      expect(textOf(history.base, all)).toBe(
        textOf(null, [textUpdate(1, 'old'), textUpdate(2, 'new'), textUpdate(3, '!')]),
      )
      // What load returns is unchanged by history.
      const loaded = await store.load('doc')
      expect(loaded.headSeq).toBe(3)
      expect(loaded.updates.length).toBe(1)
      await store.delete('doc')
      expect(await store.history('doc')).toEqual({ base: null, records: [] })
    })

    it('prunes history records that left the window at a later compaction, keeping the later ones', async () => {
      const { store } = await open(60_000)
      const start = Date.now()
      const at = (receivedAtMs: number, update: Uint8Array): AppendEntry => ({
        update,
        meta: { ...meta, receivedAtMs },
      })
      const updates = [textUpdate(1, 'a'), textUpdate(2, 'b'), textUpdate(3, 'c')] as const
      vi.useFakeTimers({ toFake: ['Date'] })
      try {
        vi.setSystemTime(start)
        await store.append('doc', [at(start - 1_000, updates[0])])
        await store.append('doc', [at(start, updates[1])])
        await store.compact('doc', textUpdate(9, 'x'), 2)
        expect((await store.history('doc')).records.map((record) => record.seq)).toEqual([1, 2])
        // A minute later record 1 has left the window, record 2 has not.
        vi.setSystemTime(start + 59_500)
        await store.append('doc', [at(start + 59_500, updates[2])])
        await store.compact('doc', textUpdate(9, 'y'), 3)
        const history = await store.history('doc')
        expect(history.records.map((record) => record.seq)).toEqual([2, 3])
        expect(textOf(history.base, [])).toBe('a')
        const all = history.records.flatMap((record) => record.entries.map((e) => e.update))
        expect(textOf(history.base, all)).toBe(textOf(null, [...updates]))
      } finally {
        vi.useRealTimers()
      }
    })

    it('rejects calls after close with CLOSED', async () => {
      const { store } = await open()
      await store.append('doc', [entry(textUpdate(1, 'a'))])
      await store.close()
      await expect(store.load('doc')).rejects.toMatchObject({ code: 'CLOSED' })
      await expect(store.append('doc', [entry(textUpdate(2, 'b'))])).rejects.toMatchObject({
        code: 'CLOSED',
      })
    })

    compactionConformanceTests(open)
    feedConformanceTests(open)

    if (!options.durable) return
    durableFeedTest(open)
    it('keeps everything across a reopen', async () => {
      const current = await open()
      const { store, reopen } = current
      if (reopen === undefined) throw new Error('a durable fixture must provide reopen()')
      await store.append('doc', [entry(textUpdate(1, 'abc'))])
      await store.append('doc', [entry(textUpdate(2, 'def'))])
      await store.compact('doc', textUpdate(1, 'abc'), 1)
      await store.append('other', [entry(textUpdate(3, 'xyz'))])
      await store.append('deleted', [entry(textUpdate(5, 'gone'))])
      await store.delete('deleted')
      await store.close()
      const reopened = await reopen()
      try {
        const loaded = await reopened.load('doc')
        expect(loaded.headSeq).toBe(2)
        expect(textOf(loaded.snapshot, loaded.updates)).toBe('abcdef')
        expect(textOf(null, (await reopened.load('other')).updates)).toBe('xyz')
        expect(await reopened.append('doc', [entry(textUpdate(4, '!'))])).toBe(3)
        expect((await reopened.load('deleted')).headSeq).toBe(0)
        expect((await reopened.list()).map((doc) => doc.name).sort()).toEqual(['doc', 'other'])
      } finally {
        await reopened.close()
      }
    })
  })
}
