/** runLocalStoreSuite: the conformance suite every LocalStore implementation must pass. */
import type { LocalDoc, LocalStore, OutboxRecord } from '../local-store.js'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

/** A local store under test, and how to reopen it on the same data (for durable stores). */
export interface LocalStoreFixture {
  readonly store: LocalStore
  /** Opens a second instance on the same data (after `store` was closed); durable stores only. */
  readonly reopen?: () => Promise<LocalStore>
  /** Releases everything (instances still open, data directories…). */
  readonly cleanup: () => Promise<void>
}

const EMPTY: LocalDoc = { snapshot: null, updates: [], outbox: [], lastRef: 0 }

/** An update inserting `text` into the text `t` of a fresh doc with `clientID`. */
const textUpdate = (clientID: number, text: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

const record = (ref: number, text = `edit ${ref}`): OutboxRecord => ({
  ref,
  update: textUpdate(1000 + ref, text),
})

const textOf = (loaded: LocalDoc): string => {
  const doc = new Y.Doc()
  if (loaded.snapshot !== null) Y.applyUpdate(doc, loaded.snapshot)
  for (const update of loaded.updates) Y.applyUpdate(doc, update)
  return doc.getText('t').toString()
}

/** A document edited keystroke by keystroke, with the update of every keystroke. */
const editedDoc = (text: string): { doc: Y.Doc; updates: Uint8Array[] } => {
  const doc = new Y.Doc()
  doc.clientID = 7
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => updates.push(update))
  const ytext = doc.getText('t')
  for (const char of text) ytext.insert(ytext.length, char)
  doc.getMap('m').set('done', true)
  return { doc, updates }
}

/**
 * Registers the LocalStore conformance tests for one implementation; `durable` stores also get
 * the reopen tests (their fixture must provide `reopen`).
 */
export const runLocalStoreSuite = (
  name: string,
  makeFixture: () => Promise<LocalStoreFixture>,
  options: { durable: boolean },
): void => {
  describe(`LocalStore conformance: ${name}`, () => {
    let fixture: LocalStoreFixture | null = null
    const open = async (): Promise<LocalStoreFixture> => (fixture = await makeFixture())
    afterEach(async () => {
      await fixture?.cleanup()
      fixture = null
    })

    it('loads an unknown document as empty', async () => {
      const { store } = await open()
      await store.write('other', { updates: [textUpdate(1, 'x')], outboxAdd: [record(4)] })
      expect(await store.load('never-written')).toEqual(EMPTY)
    })

    it('returns updates byte for byte, in write order, across several writes', async () => {
      const { store } = await open()
      const updates = ['a', 'bb', 'ccc', 'dddd', 'e'].map((text, index) =>
        textUpdate(index + 1, text),
      )
      await store.write('doc', { updates: updates.slice(0, 2) })
      await store.write('doc', {})
      await store.write('doc', { updates: updates.slice(2, 3) })
      await store.write('doc', { updates: updates.slice(3) })
      const loaded = await store.load('doc')
      expect(loaded.updates).toEqual(updates)
      expect(loaded).toMatchObject({ snapshot: null, outbox: [], lastRef: 0 })
    })

    it('keeps what it loaded independent of the buffers it was given', async () => {
      const { store } = await open()
      const update = textUpdate(1, 'abc')
      const kept = update.slice()
      const outboxUpdate = textUpdate(2, 'def')
      const keptOutbox = outboxUpdate.slice()
      await store.write('doc', { updates: [update], outboxAdd: [{ ref: 1, update: outboxUpdate }] })
      update.fill(0)
      outboxUpdate.fill(0)
      const loaded = await store.load('doc')
      expect(loaded.updates).toEqual([kept])
      expect(loaded.outbox).toEqual([{ ref: 1, update: keptOutbox }])
    })

    it('adds and removes outbox records, sorted by ref whatever the order they came in', async () => {
      const { store } = await open()
      const records = [record(1), record(2), record(3), record(4), record(5)]
      await store.write('doc', { outboxAdd: [records[4]!, records[1]!] })
      await store.write('doc', { outboxAdd: [records[2]!, records[0]!, records[3]!] })
      expect((await store.load('doc')).outbox).toEqual(records)
      await store.write('doc', { outboxRemove: [2, 99, 4] })
      expect((await store.load('doc')).outbox).toEqual([records[0], records[2], records[4]])
      await store.write('doc', { outboxRemove: [42] })
      expect((await store.load('doc')).outbox).toEqual([records[0], records[2], records[4]])
    })

    it('applies updates, additions and removals of one change together', async () => {
      const { store } = await open()
      await store.write('doc', { outboxAdd: [record(1), record(2)] })
      const update = textUpdate(3, 'three')
      await store.write('doc', { updates: [update], outboxAdd: [record(3)], outboxRemove: [1] })
      expect(await store.load('doc')).toEqual({
        snapshot: null,
        updates: [update],
        outbox: [record(2), record(3)],
        lastRef: 3,
      })
    })

    it('replaces outbox records with one under the newest of their refs in one change', async () => {
      const { store } = await open()
      await store.write('doc', { outboxAdd: [record(1), record(2), record(3)] })
      const merged = record(3, 'merged edits 1 to 3')
      await store.write('doc', { outboxAdd: [merged], outboxRemove: [1, 2] })
      expect(await store.load('doc')).toEqual({ ...EMPTY, outbox: [merged], lastRef: 3 })
      await store.write('doc', { outboxAdd: [record(4)] })
      expect((await store.load('doc')).outbox).toEqual([merged, record(4)])
    })

    it('never lowers lastRef', async () => {
      const { store } = await open()
      await store.write('doc', { outboxAdd: [record(1), record(3), record(2)] })
      expect((await store.load('doc')).lastRef).toBe(3)
      await store.write('doc', { outboxRemove: [1, 2, 3] })
      expect(await store.load('doc')).toEqual({ ...EMPTY, lastRef: 3 })
      await store.write('doc', { outboxAdd: [record(2)] })
      expect(await store.load('doc')).toEqual({ ...EMPTY, outbox: [record(2)], lastRef: 3 })
      await store.write('doc', { updates: [textUpdate(1, 'x')] })
      expect((await store.load('doc')).lastRef).toBe(3)
      await store.write('doc', { outboxAdd: [record(10)] })
      expect((await store.load('doc')).lastRef).toBe(10)
    })

    it('compaction replaces the updates with the snapshot and keeps the outbox', async () => {
      const { store } = await open()
      const { updates } = editedDoc('hello')
      await store.write('doc', { updates: updates.slice(0, 2), outboxAdd: [record(1)] })
      await store.write('doc', { updates: updates.slice(2, 5), outboxAdd: [record(2)] })
      const snapshotDoc = new Y.Doc()
      for (const update of updates.slice(0, 5)) Y.applyUpdate(snapshotDoc, update)
      const snapshot = Y.encodeStateAsUpdate(snapshotDoc)
      await store.compact('doc', snapshot)
      expect(await store.load('doc')).toEqual({
        snapshot,
        updates: [],
        outbox: [record(1), record(2)],
        lastRef: 2,
      })
      await store.write('doc', { updates: updates.slice(5), outboxRemove: [1] })
      const loaded = await store.load('doc')
      expect(loaded.snapshot).toEqual(snapshot)
      expect(loaded.updates).toEqual(updates.slice(5))
      expect(loaded.outbox).toEqual([record(2)])
      expect(textOf(loaded)).toBe('hello')
    })

    it('a second compaction replaces the first snapshot and the updates written since', async () => {
      const { store } = await open()
      await store.write('doc', { updates: [textUpdate(1, 'a')] })
      await store.compact('doc', textUpdate(1, 'a'))
      await store.write('doc', { updates: [textUpdate(2, 'b'), textUpdate(3, 'c')] })
      const second = textUpdate(9, 'abc')
      await store.compact('doc', second)
      expect(await store.load('doc')).toEqual({ ...EMPTY, snapshot: second })
      await store.write('doc', { updates: [textUpdate(4, 'd')] })
      expect((await store.load('doc')).updates).toEqual([textUpdate(4, 'd')])
    })

    it('rebuilds a Y.Doc equal to the original from snapshot and updates', async () => {
      const { store } = await open()
      const { doc, updates } = editedDoc('conformance')
      for (let start = 0; start < 6; start += 2)
        await store.write('doc', { updates: updates.slice(start, start + 2) })
      const partial = new Y.Doc()
      for (const update of updates.slice(0, 6)) Y.applyUpdate(partial, update)
      await store.compact('doc', Y.encodeStateAsUpdate(partial))
      for (const update of updates.slice(6)) await store.write('doc', { updates: [update] })
      const loaded = await store.load('doc')
      const rebuilt = new Y.Doc()
      if (loaded.snapshot !== null) Y.applyUpdate(rebuilt, loaded.snapshot)
      for (const update of loaded.updates) Y.applyUpdate(rebuilt, update)
      expect(rebuilt.getText('t').toString()).toBe('conformance')
      expect(rebuilt.getMap('m').toJSON()).toEqual({ done: true })
      expect(Y.encodeStateVector(rebuilt)).toEqual(Y.encodeStateVector(doc))
    })

    it('keeps documents apart, including names that look like key separators', async () => {
      const { store } = await open()
      const names = ['a', 'ab', 'a:b', 'a%3Ab', 'a/b', 'a:log:0000000000000001', 'ünï 🧵']
      for (const [index, docName] of names.entries()) {
        await store.write(docName, {
          updates: [textUpdate(index + 1, docName)],
          outboxAdd: [record(index + 1, docName)],
        })
      }
      await store.compact('a', textUpdate(1, 'a'))
      for (const [index, docName] of names.entries()) {
        const loaded = await store.load(docName)
        expect(loaded.updates.length + (loaded.snapshot === null ? 0 : 1), docName).toBe(1)
        expect(textOf(loaded)).toBe(docName)
        expect(loaded.outbox).toEqual([record(index + 1, docName)])
        expect(loaded.lastRef).toBe(index + 1)
      }
    })

    it('writes to different documents at the same time without mixing them', async () => {
      const { store } = await open()
      const names = Array.from({ length: 6 }, (_, index) => `doc-${index}`)
      const first = names.map((docName, index) => textUpdate(index + 1, docName))
      const second = names.map((docName, index) => textUpdate(index + 101, `${docName}!`))
      await Promise.all(
        names.map((docName, index) => store.write(docName, { updates: [first[index]!] })),
      )
      await Promise.all(
        names.map((docName, index) =>
          store.write(docName, { updates: [second[index]!], outboxAdd: [record(index + 1)] }),
        ),
      )
      for (const [index, docName] of names.entries()) {
        expect(await store.load(docName)).toEqual({
          snapshot: null,
          updates: [first[index], second[index]],
          outbox: [record(index + 1)],
          lastRef: index + 1,
        })
      }
    })

    it('clear removes one document only, and the document can be written again', async () => {
      const { store } = await open()
      for (const docName of ['a', 'ab', 'a:b']) {
        await store.write(docName, { updates: [textUpdate(1, docName)], outboxAdd: [record(5)] })
        await store.compact(docName, textUpdate(1, docName))
      }
      await store.write('a', { updates: [textUpdate(2, '!')] })
      await store.clear('a')
      expect(await store.load('a')).toEqual(EMPTY)
      for (const docName of ['ab', 'a:b']) {
        expect(await store.load(docName)).toEqual({
          ...EMPTY,
          snapshot: textUpdate(1, docName),
          outbox: [record(5)],
          lastRef: 5,
        })
      }
      await store.clear('never-written')
      const update = textUpdate(3, 'again')
      await store.write('a', { updates: [update], outboxAdd: [record(1)] })
      // Written right after clear, with no load in between to refresh what a store may cache.
      await store.clear('ab')
      await store.write('ab', { updates: [update], outboxAdd: [record(1)] })
      for (const docName of ['a', 'ab']) {
        expect(await store.load(docName), docName).toEqual({
          ...EMPTY,
          updates: [update],
          outbox: [record(1)],
          lastRef: 1,
        })
      }
    })

    it('rejects every call after close with CLOSED', async () => {
      const { store } = await open()
      await store.write('doc', { updates: [textUpdate(1, 'a')] })
      await store.close()
      const closed = { code: 'CLOSED' }
      await expect(store.load('doc')).rejects.toMatchObject(closed)
      await expect(store.write('doc', { updates: [textUpdate(2, 'b')] })).rejects.toMatchObject(
        closed,
      )
      await expect(store.compact('doc', textUpdate(1, 'a'))).rejects.toMatchObject(closed)
      await expect(store.clear('doc')).rejects.toMatchObject(closed)
    })

    if (!options.durable) return

    const reopenOf = (current: LocalStoreFixture): (() => Promise<LocalStore>) => {
      if (current.reopen === undefined) throw new Error('a durable fixture must provide reopen()')
      return current.reopen
    }

    it('keeps snapshot, updates, outbox and lastRef across a reopen', async () => {
      const current = await open()
      const { store } = current
      const { updates } = editedDoc('durable')
      await store.write('doc', { updates: updates.slice(0, 3), outboxAdd: [record(1), record(2)] })
      const snapshotDoc = new Y.Doc()
      for (const update of updates.slice(0, 3)) Y.applyUpdate(snapshotDoc, update)
      const snapshot = Y.encodeStateAsUpdate(snapshotDoc)
      await store.compact('doc', snapshot)
      await store.write('doc', { updates: updates.slice(3), outboxAdd: [record(4)] })
      await store.write('doc', { outboxRemove: [1] })
      await store.write('acked', { outboxAdd: [record(7)] })
      await store.write('acked', { outboxRemove: [7] })
      await store.write('gone', { updates: [textUpdate(1, 'gone')], outboxAdd: [record(3)] })
      await store.clear('gone')
      await store.close()
      const reopened = await reopenOf(current)()
      expect(await reopened.load('doc')).toEqual({
        snapshot,
        updates: updates.slice(3),
        outbox: [record(2), record(4)],
        lastRef: 4,
      })
      expect(await reopened.load('acked')).toEqual({ ...EMPTY, lastRef: 7 })
      expect(await reopened.load('gone')).toEqual(EMPTY)
      await reopened.close()
    })

    it('appends updates written after a reopen after the existing ones', async () => {
      const current = await open()
      const { store } = current
      const { updates } = editedDoc('abcdefghijklmnop')
      for (const update of updates.slice(0, 11)) await store.write('doc', { updates: [update] })
      await store.write('doc', { outboxAdd: [record(3)] })
      await store.close()
      const second = await reopenOf(current)()
      await second.write('doc', { updates: updates.slice(11, 13), outboxAdd: [record(1)] })
      expect((await second.load('doc')).updates).toEqual(updates.slice(0, 13))
      await second.compact('doc', textUpdate(1, 'compacted'))
      await second.close()
      const third = await reopenOf(current)()
      await third.write('doc', { updates: updates.slice(13) })
      expect(await third.load('doc')).toEqual({
        snapshot: textUpdate(1, 'compacted'),
        updates: updates.slice(13),
        outbox: [record(1), record(3)],
        lastRef: 3,
      })
      await third.close()
    })
  })
}
