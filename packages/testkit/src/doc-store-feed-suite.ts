/** The change-feed and state-record part of the DocStore conformance suite. */
import type { AppendEntry, DocStore, FeedChange } from '@weft/server/store'
import { expect, it } from 'vitest'
import * as Y from 'yjs'

const update = (clientID: number, text: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.clientID = clientID
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

const entry = (clientID: number, receivedAtMs = Date.now()): AppendEntry => ({
  update: update(clientID, 'x'),
  meta: { author: 'tester', correlationId: 'c-1', receivedAtMs },
})

const change = (author: string, receivedAtMs = Date.now()): FeedChange => ({
  kind: 'update',
  author,
  correlationId: `corr-${author}`,
  receivedAtMs,
  bytes: 12,
  events: [{ type: 'record.deleted', collection: 'tasks', id: author }],
})

/**
 * Registers the feed tests inside the suite's `describe`: `open(historyMs)` gives a fresh store,
 * `reopen` (durable stores) a second instance on the same data after the first was closed.
 */
export const feedConformanceTests = (
  open: (historyMs?: number) => Promise<{ store: DocStore; reopen?: () => Promise<DocStore> }>,
): void => {
  it('keeps no change feed without a history window', async () => {
    const { store } = await open(0)
    expect(store.feedRetentionMs).toBe(0)
    await store.append('doc', [entry(1)], [change('a')])
    expect(await store.readFeed(0, 10)).toEqual({ entries: [], head: 0, prunedThrough: 0 })
    expect(await store.pruneFeed()).toBe(0)
  })

  it('writes each change at the next position with its document sequence', async () => {
    const { store } = await open(60_000)
    expect(store.feedRetentionMs).toBe(60_000)
    const at = Date.now()
    await store.append('a', [entry(1, at)], [change('one', at), change('two', at)])
    await store.append('b', [entry(2, at)], [change('three', at)])
    await store.append('a', [entry(3, at)], [change('four', at)])
    await store.append('a', [entry(4, at)]) // nothing for the feed: an acknowledgement only
    const page = await store.readFeed(0, 10)
    expect(page.head).toBe(4)
    expect(page.prunedThrough).toBe(0)
    expect(
      page.entries.map(({ position, doc, seq, author }) => [position, doc, seq, author]),
    ).toEqual([
      [1, 'a', 1, 'one'],
      [2, 'a', 2, 'two'],
      [3, 'b', 1, 'three'],
      [4, 'a', 3, 'four'],
    ])
    expect(page.entries[0]).toEqual({ ...change('one', at), position: 1, doc: 'a', seq: 1 })
    const later = await store.readFeed(2, 1)
    expect(later.entries.map((each) => each.position)).toEqual([3])
    expect((await store.readFeed(4, 10)).entries).toEqual([])
  })

  it('numbers appends made at once in the order they become durable', async () => {
    const { store } = await open(60_000)
    const resolved: string[] = []
    await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        store
          .append(`doc-${index % 4}`, [entry(index + 1)], [change(`w${index}`)])
          .then(() => resolved.push(`w${index}`)),
      ),
    )
    const { entries } = await store.readFeed(0, 100)
    expect(entries.map((each) => each.author)).toEqual(resolved)
    expect(entries.map((each) => each.position)).toEqual(entries.map((_, index) => index + 1))
    for (const doc of ['doc-0', 'doc-1', 'doc-2', 'doc-3']) {
      const seqs = entries.filter((each) => each.doc === doc).map((each) => each.seq)
      expect(seqs).toEqual(seqs.map((_, index) => index + 1))
    }
  })

  it('records a deletion as a change and never reuses a document sequence', async () => {
    const { store } = await open(60_000)
    await store.append('gone', [entry(1)], [change('before')])
    await store.delete('gone', { ...change('admin'), kind: 'deleted', bytes: 0, events: [] })
    expect(await store.append('gone', [entry(2)], [change('after')])).toBe(1)
    const { entries } = await store.readFeed(0, 10)
    expect(entries.map(({ kind, seq }) => [kind, seq])).toEqual([
      ['update', 1],
      ['deleted', 2],
      ['update', 3],
    ])
  })

  it('prunes entries older than the window, oldest first', async () => {
    const { store } = await open(60_000)
    const now = Date.now()
    await store.append('a', [entry(1)], [change('old', now - 120_000)])
    await store.append('b', [entry(2)], [change('older-but-after', now - 90_000)])
    await store.append('a', [entry(3)], [change('new', now - 1_000)])
    expect(await store.pruneFeed(now)).toBe(2)
    const page = await store.readFeed(0, 10)
    expect(page.prunedThrough).toBe(2)
    expect(page.head).toBe(3)
    expect(page.entries.map((each) => each.author)).toEqual(['new'])
    expect(await store.pruneFeed(now)).toBe(0)
    await store.append('a', [entry(4)], [change('newest')])
    expect((await store.readFeed(2, 10)).entries.map((each) => each.position)).toEqual([3, 4])
  })

  it('keeps state records by key, deletes them with null and refuses values that are not JSON', async () => {
    const { store } = await open(0)
    await store.writeState([
      { key: 'hook/a/cursor', value: { position: 7 } },
      { key: 'hook/a/dead/0001', value: ['x', 1] },
      { key: 'hook/ab/cursor', value: 3 },
    ])
    expect(await store.readState('hook/a/')).toEqual([
      { key: 'hook/a/cursor', value: { position: 7 } },
      { key: 'hook/a/dead/0001', value: ['x', 1] },
    ])
    await store.writeState([{ key: 'hook/a/dead/0001', value: null }])
    expect((await store.readState('hook/')).map((record) => record.key)).toEqual([
      'hook/a/cursor',
      'hook/ab/cursor',
    ])
    await expect(
      store.writeState([
        { key: 'hook/a/cursor', value: 8 },
        { key: 'bad', value: undefined },
      ]),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(await store.readState('hook/a/cursor')).toEqual([
      { key: 'hook/a/cursor', value: { position: 7 } },
    ])
  })
}

/** The durable part: positions, sequences and state records survive a reopen. */
export const durableFeedTest = (
  open: (historyMs?: number) => Promise<{ store: DocStore; reopen?: () => Promise<DocStore> }>,
): void => {
  it('keeps the feed, its numbering and state records across a reopen', async () => {
    const { store, reopen } = await open(60_000)
    if (reopen === undefined) throw new Error('a durable fixture must provide reopen()')
    await store.append('a', [entry(1)], [change('one')])
    await store.delete('a', { ...change('two'), kind: 'deleted' })
    await store.writeState([{ key: 'k', value: { kept: true } }])
    await store.close()
    const reopened = await reopen()
    try {
      await reopened.append('a', [entry(2)], [change('three')])
      await reopened.append('b', [entry(3)], [change('four')])
      const { entries, head } = await reopened.readFeed(0, 10)
      expect(head).toBe(4)
      expect(entries.map(({ doc, seq, position }) => [doc, seq, position])).toEqual([
        ['a', 1, 1],
        ['a', 2, 2],
        ['a', 3, 3],
        ['b', 1, 4],
      ])
      expect(await reopened.readState('k')).toEqual([{ key: 'k', value: { kept: true } }])
    } finally {
      await reopened.close()
    }
  })
}
