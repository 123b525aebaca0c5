import { isWeftError, WeftServiceClient, type DocumentRead } from '@weft/service-client'
import { type TestRelay, scopedToken, writeToken } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { startApiRelay } from './fixtures/relays.js'

let relay: TestRelay | null = null
afterEach(async () => {
  await relay?.close()
  relay = null
})

const start = async (): Promise<TestRelay> => (relay = await startApiRelay())

/** The code of the WeftError `promise` rejects with (fails the test if it resolves). */
const codeOf = async (promise: Promise<unknown>): Promise<string> => {
  const error: unknown = await promise.then(
    () => new Error('resolved'),
    (reason: unknown) => reason,
  )
  if (!isWeftError(error)) throw new Error(`expected a WeftError, got ${String(error)}`)
  return error.code
}

const textUpdate = (text: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('body').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

const modelOf = (read: DocumentRead) => {
  if (!('model' in read)) throw new Error('expected a model')
  return read.model
}

describe('WeftServiceClient against a relay', () => {
  it('changes records and reads them back as the model, with the name percent-encoded', async () => {
    const { httpUrl } = await start()
    const client = new WeftServiceClient({ url: httpUrl, token: await writeToken('svc-planner') })
    const saved = await client.changeRecords(
      'boards/q3 plan?#%',
      [
        { op: 'create', collection: 'tasks', id: 't1', fields: { title: 'Ship', status: 'todo' } },
        { op: 'create', collection: 'tasks', fields: { title: 'Test', status: 'doing' } },
        { op: 'update', collection: 'tasks', id: 't1', fields: { estimate: 3 } },
      ],
      { correlationId: 'plan-42' },
    )
    expect(saved.saved).toBe(true)
    expect(saved.correlationId).toBe('plan-42')
    expect(saved.created).toHaveLength(2)
    expect(saved.created[0]).toBe('t1')
    const read = await client.getDocument('boards/q3 plan?#%')
    expect(read.name).toBe('boards/q3 plan?#%')
    expect(read.stateVector).toEqual(saved.stateVector)
    const tasks = modelOf(read).collections['tasks'] ?? []
    // Both were created in the same millisecond: the model's list order is not ours to test.
    const rows = tasks.map((task) => [task['id'], task['title'], task['estimate']])
    expect(rows.sort((a, b) => String(a[1]).localeCompare(String(b[1])))).toEqual([
      ['t1', 'Ship', 3],
      [saved.created[1], 'Test', null],
    ])
    expect(tasks.map((task) => task['createdBy'])).toEqual(['svc-planner', 'svc-planner'])

    await client.changeRecords('boards/q3 plan?#%', [
      { op: 'delete', collection: 'tasks', id: 't1' },
    ])
    const afterDelete = modelOf(await client.getDocument('boards/q3 plan?#%'))
    expect(afterDelete.collections['tasks']?.map((task) => task['id'])).toEqual([saved.created[1]])
    await client.changeRecords('boards/q3 plan?#%', [
      { op: 'restore', collection: 'tasks', id: 't1' },
    ])
    const raw = await client.getDocument('boards/q3 plan?#%', { raw: true })
    expect('content' in raw && Object.keys(raw.content)).toContain('tasks')

    // The feed names the writes in order, with the correlation id given.
    const page = await client.readFeed({ docs: ['boards/*'] })
    expect(page.events.map((event) => [event.id, event.doc, event.seq])).toEqual([
      ['1', 'boards/q3 plan?#%', 1],
      ['2', 'boards/q3 plan?#%', 2],
      ['3', 'boards/q3 plan?#%', 3],
    ])
    expect(page.events[0]?.correlationId).toBe('plan-42')
    expect(page.events[0]?.events.map((event) => event.type)).toEqual([
      'record.created',
      'record.created',
    ])
    expect(page.events[1]?.events).toEqual([
      { type: 'record.deleted', collection: 'tasks', id: 't1' },
    ])
    expect(page.cursor).toBe('3')
    expect(page.head).toBe('3')
  })

  it('reads Yjs updates (whole, or since a state vector) and posts updates', async () => {
    const { httpUrl } = await start()
    const client = new WeftServiceClient({ url: httpUrl, token: () => writeToken('svc-indexer') })
    const first = await client.postUpdate('notes/1', textUpdate('hello'))
    expect(first.saved).toBe(true)
    const replica = new Y.Doc()
    Y.applyUpdate(replica, await client.getUpdate('notes/1'))
    expect(replica.getText('body').toString()).toBe('hello')
    expect(Y.encodeStateVector(replica)).toEqual(first.stateVector)

    const editor = new Y.Doc()
    Y.applyUpdate(editor, Y.encodeStateAsUpdate(replica))
    const before = Y.encodeStateVector(editor)
    editor.getText('body').insert(5, ' world')
    const second = await client.postUpdate('notes/1', Y.encodeStateAsUpdate(editor, before), {
      correlationId: 'edit-2',
    })
    expect(second.correlationId).toBe('edit-2')
    expect(Object.keys(second).sort()).toEqual(['correlationId', 'saved', 'stateVector'])
    const newer = await client.getUpdate('notes/1', Y.encodeStateVector(replica))
    expect(newer.length).toBeLessThan((await client.getUpdate('notes/1')).length)
    Y.applyUpdate(replica, newer)
    expect(replica.getText('body').toString()).toBe('hello world')
    const read = await client.getDocument('notes/1')
    expect('content' in read && read.content).toEqual({ body: 'hello world' })
    const page = await client.readFeed({ after: '1', docs: ['notes/**'] })
    expect(page.events.map((event) => [event.id, event.author, event.correlationId])).toEqual([
      ['2', 'svc-indexer', 'edit-2'],
    ])
  })

  it('long-polls the feed: an empty read waits for the next change', async () => {
    const { httpUrl } = await start()
    const client = new WeftServiceClient({ url: httpUrl, token: await writeToken('svc') })
    await client.postUpdate('notes/a', textUpdate('a'))
    const head = await client.feedHead()
    expect(head).toBe('1')
    const waiting = client.readFeed({ after: head, waitMs: 10_000 })
    await client.postUpdate('notes/b', textUpdate('b'))
    const page = await waiting
    expect(page.events.map((event) => event.doc)).toEqual(['notes/b'])
    // Filtered entries still move the cursor, so nobody reads them again.
    await client.postUpdate('notes/c', textUpdate('c'))
    const filtered = await client.readFeed({ after: page.cursor, docs: ['boards/*'] })
    expect(filtered).toEqual({ events: [], cursor: '3', head: '3' })
  })

  it('turns error answers into WeftErrors with the relay code and message', async () => {
    const { httpUrl } = await start()
    const writer = new WeftServiceClient({ url: httpUrl, token: await writeToken('svc') })
    await writer.changeRecords('boards/1', [
      { op: 'create', collection: 'tasks', id: 't1', fields: { title: 'a', status: 'todo' } },
    ])
    await writer.postUpdate('plain', textUpdate('x'))
    const missing = await writer.getDocument('never-written').catch((error: unknown) => error)
    expect(isWeftError(missing, 'NOT_FOUND')).toBe(true)
    // The relay's own message, without its "NOT_FOUND: " prefix doubled.
    expect((missing as Error).message).toBe(
      'NOT_FOUND: document "never-written" does not exist: nothing was written to it',
    )
    expect(await codeOf(writer.getUpdate('never-written'))).toBe('NOT_FOUND')
    expect(await codeOf(writer.getUpdate('boards/1', new Uint8Array([0xff])))).toBe('BAD_MESSAGE')
    expect(await codeOf(writer.postUpdate('plain', new Uint8Array([1, 2, 3])))).toBe('BAD_UPDATE')
    const update = (fields: Record<string, unknown>) =>
      writer.changeRecords('boards/1', [{ op: 'update', collection: 'tasks', id: 't1', fields }])
    expect(await codeOf(update({ status: 'later' }))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(update({ colour: 'red' }))).toBe('INVALID_ARGUMENT')
    const ghost = writer.changeRecords('boards/1', [
      { op: 'update', collection: 'tasks', id: 'ghost', fields: { estimate: 1 } },
    ])
    expect(await codeOf(ghost)).toBe('NOT_FOUND')
    const again = writer.changeRecords('boards/1', [
      { op: 'create', collection: 'tasks', id: 't1', fields: { title: 'b', status: 'todo' } },
    ])
    expect(await codeOf(again)).toBe('ALREADY_EXISTS')
    const schemaless = writer.changeRecords('plain', [
      { op: 'create', collection: 'tasks', fields: {} },
    ])
    expect(await codeOf(schemaless)).toBe('INVALID_ARGUMENT')
    const tooBig = writer.postUpdate('plain', new Uint8Array(16 * 1024 * 1024 + 1).fill(1))
    expect(await codeOf(tooBig)).toBe('MESSAGE_TOO_BIG')
    // All or nothing: the valid first change was not kept.
    const mixed = writer.changeRecords('boards/1', [
      { op: 'update', collection: 'tasks', id: 't1', fields: { title: 'kept?' } },
      { op: 'update', collection: 'tasks', id: 't1', fields: { status: 'bad' } },
    ])
    await expect(mixed).rejects.toThrow(/INVALID_ARGUMENT: changes\[1\]/)
    const tasks = modelOf(await writer.getDocument('boards/1')).collections['tasks'] ?? []
    expect(tasks.map((task) => task['title'])).toEqual(['a'])
  })

  it('refuses outside the token scope (403), a bad or missing token (401)', async () => {
    const { httpUrl } = await start()
    const writer = new WeftServiceClient({ url: httpUrl, token: await writeToken('svc') })
    // Plain text documents: boards/* take only what fits the board schema.
    await writer.postUpdate('notes/1', textUpdate('x'))
    await writer.postUpdate('other/1', textUpdate('y'))
    const reader = new WeftServiceClient({
      url: httpUrl,
      token: await scopedToken('rita', [
        { pattern: 'notes/*', access: 'read' },
        { pattern: 'boards/*', access: 'read' },
      ]),
    })
    expect('content' in (await reader.getDocument('notes/1', { raw: true }))).toBe(true)
    expect(await codeOf(reader.getDocument('other/1'))).toBe('FORBIDDEN')
    expect(await codeOf(reader.getUpdate('other/1'))).toBe('FORBIDDEN')
    expect(await codeOf(reader.postUpdate('notes/1', textUpdate('z')))).toBe('FORBIDDEN')
    const change = reader.changeRecords('boards/1', [
      { op: 'delete', collection: 'tasks', id: 'x' },
    ])
    expect(await codeOf(change)).toBe('FORBIDDEN')
    // The feed shows a token only what it may read.
    const page = await reader.readFeed()
    expect(page.events.map((event) => event.doc)).toEqual(['notes/1'])
    expect(page.cursor).toBe('2')

    const anonymous = new WeftServiceClient({ url: httpUrl })
    expect(await codeOf(anonymous.readFeed())).toBe('UNAUTHORIZED')
    const forged = new WeftServiceClient({
      url: httpUrl,
      token: await writeToken('mallory', 'another-secret-that-is-32-bytes-long!!'),
    })
    expect(await codeOf(forged.getDocument('boards/1'))).toBe('UNAUTHORIZED')
    const failing = new WeftServiceClient({
      url: httpUrl,
      token: () => Promise.reject(new Error('identity provider down')),
    })
    expect(await codeOf(failing.getDocument('boards/1'))).toBe('UNAUTHORIZED')
  })

  it('refuses a cursor older than the retention window with CURSOR_EXPIRED (410)', async () => {
    const { httpUrl, relay: inner } = await start()
    const client = new WeftServiceClient({ url: httpUrl, token: await writeToken('svc') })
    await client.postUpdate('notes/1', textUpdate('a'))
    await client.postUpdate('notes/1', textUpdate('b'))
    expect(await inner.feed.prune(Date.now() + 10 * 60_000)).toBe(2)
    const expired = await client.readFeed({ after: '1' }).catch((error: unknown) => error)
    expect(isWeftError(expired, 'CURSOR_EXPIRED')).toBe(true)
    expect((expired as Error).message).toMatch(/retention removed up to 2/)
    // The head is still readable, and following from it sees new changes.
    const head = await client.feedHead()
    expect(head).toBe('2')
    await client.postUpdate('notes/1', textUpdate('c'))
    expect((await client.readFeed({ after: head })).events.map((event) => event.id)).toEqual(['3'])
  })
})
