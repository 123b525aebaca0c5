import { defineSchema, field, openModel, type ChangeEvent } from '@weft/doc'
import { startTestRelay, testClient, untilSameState, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

const board = defineSchema({
  version: 1,
  collections: {
    tasks: { title: field.string(), status: field.enum(['todo', 'doing', 'done']) },
  },
})

let relay: TestRelay | null = null
afterEach(async () => {
  await relay?.close()
  relay = null
})

const start = async (historyMs = 60_000): Promise<TestRelay> =>
  (relay = await startTestRelay({
    historyMs,
    httpApi: true,
    schemas: [{ pattern: 'boards/*', schema: board }],
  }))

const textUpdate = (text: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

const write = (name: string, text: string): Promise<Uint8Array> =>
  (relay as TestRelay).relay.documents.applyUpdate(name, textUpdate(text), { service: 'test' })

describe('the change feed', () => {
  it('wakes a long-poll as soon as a change is durable, and an abort ends the wait', async () => {
    const { relay: inner } = await start()
    await write('a', 'one')
    const { head } = await inner.feed.bounds()
    const started = performance.now()
    const waiting = inner.feed.read({ after: head, waitMs: 30_000 })
    await write('b', 'two')
    const read = await waiting
    expect(performance.now() - started).toBeLessThan(5_000)
    expect(read.entries.map((entry) => [entry.doc, entry.author])).toEqual([['b', 'service:test']])
    expect(read.cursor).toBe(head + 1)

    const stop = new AbortController()
    const aborted = inner.feed.read({ after: read.cursor, waitMs: 30_000, signal: stop.signal })
    stop.abort()
    expect((await aborted).entries).toEqual([])
  })

  it('moves the cursor past filtered entries and refuses a cursor retention passed', async () => {
    const { relay: inner, httpUrl } = await start(60_000)
    for (const name of ['x', 'y', 'x', 'y']) await write(name, name)
    const onlyY = await inner.feed.read({ filter: (entry) => entry.doc === 'y', limit: 1 })
    expect(onlyY.entries.map((entry) => entry.position)).toEqual([2])
    expect(onlyY.cursor).toBe(2)
    const rest = await inner.feed.read({ after: 2, filter: (entry) => entry.doc === 'x' })
    expect(rest.entries.map((entry) => entry.position)).toEqual([3])
    expect(rest.cursor).toBe(4)

    expect(await inner.feed.prune(Date.now() + 120_000)).toBe(4)
    await write('x', 'later')
    await expect(inner.feed.read({ after: 1 })).rejects.toMatchObject({ code: 'CURSOR_EXPIRED' })
    expect((await inner.feed.read({ after: 4 })).entries.map((entry) => entry.position)).toEqual([
      5,
    ])
    const expired = await fetch(`${httpUrl}/v1/feed?after=1`)
    expect(expired.status).toBe(410)
    expect(await expired.json()).toMatchObject({ code: 'CURSOR_EXPIRED' })
    // Without a cursor, a consumer starts at the oldest event kept; the head route says where that is.
    const fresh = (await (await fetch(`${httpUrl}/v1/feed`)).json()) as {
      events: Array<{ position: number }>
      cursor: string
    }
    expect(fresh.events.map((event) => event.position)).toEqual([5])
    expect(fresh.cursor).toBe('5')
    expect(await (await fetch(`${httpUrl}/v1/feed/head`)).json()).toEqual({
      head: '5',
      prunedThrough: '4',
    })
    await expect(inner.feed.read({ after: 6 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  })

  it('streams as server-sent events that resume after Last-Event-ID', async () => {
    const { httpUrl } = await start()
    await write('s', 'one')
    await write('other', 'skipped by the filter')
    /** Reads `count` change events of a stream, then closes it; returns them and the last id seen. */
    const readStream = async (
      headers: Record<string, string>,
      count: number,
    ): Promise<{ changes: Array<{ id: string; doc: string }>; lastId: string }> => {
      const stop = new AbortController()
      const response = await fetch(`${httpUrl}/v1/feed/stream?docs=s`, {
        headers,
        signal: stop.signal,
      })
      expect(response.headers.get('content-type')).toContain('text/event-stream')
      const reader = (response.body as ReadableStream<Uint8Array>).getReader()
      const decoder = new TextDecoder()
      const changes: Array<{ id: string; doc: string }> = []
      let lastId = ''
      let buffer = ''
      const deadline = setTimeout(() => stop.abort(), 10_000)
      try {
        while (changes.length < count) {
          const { value, done } = await reader.read()
          if (done) break
          buffer += decoder.decode(value, { stream: true })
          let end = buffer.indexOf('\n\n')
          while (end >= 0) {
            const block = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            end = buffer.indexOf('\n\n')
            const fields = new Map(
              block
                .split('\n')
                .filter((line) => !line.startsWith(':'))
                .map((line) => [
                  line.slice(0, line.indexOf(':')),
                  line.slice(line.indexOf(':') + 2),
                ]),
            )
            if (fields.has('id')) lastId = fields.get('id') as string
            if (fields.get('event') === 'change')
              changes.push(JSON.parse(fields.get('data') as string))
          }
        }
      } finally {
        clearTimeout(deadline)
        stop.abort()
      }
      return { changes, lastId }
    }
    const first = await readStream({}, 1)
    expect(first.changes.map((change) => [change.id, change.doc])).toEqual([['1', 's']])
    // Written while nobody listens: the next stream picks up after the last id it was given.
    await write('s', 'two')
    const waiting = readStream({ 'last-event-id': first.lastId }, 1)
    const second = await waiting
    expect(second.changes.map((change) => [change.id, change.doc])).toEqual([['3', 's']])
    // A change written while a stream is open arrives on it.
    const live = readStream({ 'last-event-id': second.lastId }, 1)
    await write('s', 'three')
    expect((await live).changes.map((change) => change.id)).toEqual(['4'])
  })

  it('is off without a history window, saying how to turn it on', async () => {
    const { relay: inner, httpUrl } = await start(0)
    await expect(inner.feed.read()).rejects.toMatchObject({ code: 'NOT_FOUND' })
    const response = await fetch(`${httpUrl}/v1/feed`)
    expect(response.status).toBe(404)
    expect(await response.text()).toContain('--history-ms')
  })

  it('describes what clients did to records, including a conflict made offline and its resolution', async () => {
    const { relay: inner, url } = await start()
    const ana = testClient({ url }).open('boards/1')
    const ben = testClient({ url }).open('boards/1')
    await Promise.all([ana.whenSynced(), ben.whenSynced()])
    const anaModel = openModel(ana.doc, board, { author: 'ana' })
    const task = anaModel.collection('tasks').create({ title: 'Ship', status: 'todo' })
    await ana.whenSaved()
    await untilSameState([ana.doc, ben.doc])
    // Both change the status without seeing each other's write: a conflict.
    const benModel = openModel(ben.doc, board, { author: 'ben' })
    ben.doc.transact(() => benModel.collection('tasks').update(task.id, { status: 'done' }))
    anaModel.collection('tasks').update(task.id, { status: 'doing' })
    await Promise.all([ana.whenSaved(), ben.whenSaved()])
    await untilSameState([ana.doc, ben.doc])
    const [conflict] = anaModel.conflicts()
    expect(conflict?.values).toHaveLength(2)
    anaModel.resolve({ collection: 'tasks', id: task.id, field: 'status' }, 'done')
    await ana.whenSaved()

    const { entries } = await inner.feed.read()
    const events: ChangeEvent[] = entries.flatMap((entry) => entry.events)
    const types = events.map((event) => event.type)
    expect(types[0]).toBe('record.created')
    expect(types).toContain('conflict.opened')
    expect(types.at(-1)).toBe('conflict.resolved')
    expect(events[0]).toMatchObject({
      collection: 'tasks',
      id: task.id,
      record: { title: 'Ship', status: 'todo', createdBy: 'ana' },
    })
    const opened = events.find((event) => event.type === 'conflict.opened')
    expect(opened).toMatchObject({ field: 'status' })
    expect(events.at(-1)).toMatchObject({ field: 'status', value: 'done', author: 'ana' })
    const changes = events.flatMap((event) =>
      event.type === 'record.updated' ? event.changes : [],
    )
    expect(changes[0]).toMatchObject({ field: 'status', old: 'todo' })
    // Every entry is one durable change with its own sequence, in order.
    expect(entries.map((entry) => entry.seq)).toEqual(entries.map((_, index) => index + 1))
  })
})
