import { WebSocket } from 'ws'
import { defineSchema, encodeStamp, field, openModel } from '@weft/doc'
import { jwtAuth } from '@weft/server'
import { startTestRelay, testClient, TEST_SECRET, writeToken, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

const board = defineSchema({
  version: 1,
  collections: {
    tasks: { title: field.string(), done: field.boolean(), notes: field.text() },
  },
})

let relay: TestRelay | null = null
const providers: WebsocketProvider[] = []
afterEach(async () => {
  for (const provider of providers.splice(0)) provider.destroy()
  await relay?.close()
  relay = null
})

const start = async (): Promise<TestRelay> =>
  (relay = await startTestRelay({
    httpApi: true,
    auth: jwtAuth({ secret: TEST_SECRET }),
    schemas: [{ pattern: 'boards/*', schema: board }],
  }))

/** The relay's copy of a document, as records. */
const storedTasks = async (name: string) => {
  const json = await relay!.relay.documents.json(name)
  return 'model' in json ? json.model.collections['tasks'] : null
}

/** A synced Weft handle of `user` on `name`, with the model open on it. */
const device = async (user: string, name: string) => {
  const handle = testClient(relay!, { user }).open(name)
  await handle.whenSynced()
  return { handle, model: openModel(handle.doc, board, { author: user }) }
}

/** A raw edit of a replica of the relay's copy: the bytes a hand-written client would send. */
const rawUpdate = async (name: string, edit: (doc: Y.Doc) => void): Promise<Uint8Array> => {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, await relay!.relay.documents.update(name))
  const before = Y.encodeStateVector(doc)
  edit(doc)
  return Y.encodeStateAsUpdate(doc, before)
}

const record = (doc: Y.Doc, id: string): Y.Map<unknown> =>
  doc.getMap<Y.Map<unknown>>('tasks').get(id) as Y.Map<unknown>

describe('schema-enforced writes', () => {
  it('refuses a wrong-typed field from a Weft client: rejected, kept aside, store untouched', async () => {
    await start()
    const ana = await device('ana', 'boards/1')
    const { id } = ana.model.collection('tasks').create({ title: 'Ship', done: false })
    await ana.handle.whenSaved()
    // A field write as the model would store it, but of the wrong type.
    record(ana.handle.doc, id).set(`=done|${encodeStamp(Date.now(), 0)}|ana`, { v: 'yes' })
    const rejected = new Promise((resolve) => ana.handle.once('rejected', resolve))
    await expect(ana.handle.whenSaved()).rejects.toMatchObject({ code: 'SCHEMA_VIOLATION' })
    await rejected
    expect(ana.handle.rejected).toHaveLength(1)
    expect(ana.handle.rejected[0]?.code).toBe('SCHEMA_VIOLATION')
    expect(ana.handle.rejected[0]?.reason).toContain(`tasks.done of tasks record "${id}"`)
    expect(await storedTasks('boards/1')).toEqual([expect.objectContaining({ id, done: false })])
  })

  it('refuses a wrong-typed field from a stock y-websocket client, closing it with 4423', async () => {
    await start()
    const ana = await device('ana', 'boards/2')
    const { id } = ana.model.collection('tasks').create({ title: 'Ship', done: false })
    await ana.handle.whenSaved()
    const token = await writeToken('mallory')
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(relay!.url, 'boards/2', doc, {
      WebSocketPolyfill: WebSocket as never,
      disableBc: true,
      params: { token },
    })
    providers.push(provider)
    await new Promise<void>((resolve) => provider.once('sync', () => resolve()))
    const closed = new Promise<number>((resolve) =>
      provider.on('connection-close', (event) => resolve(event?.code ?? 0)),
    )
    record(doc, id).set(`=title|${encodeStamp(Date.now(), 0)}|mallory`, { v: 42 })
    expect(await closed).toBe(4423)
    provider.destroy()
    expect(await storedTasks('boards/2')).toEqual([expect.objectContaining({ id, title: 'Ship' })])
  })

  it('refuses an unknown collection and rewritten metadata over POST /update with 422', async () => {
    await start()
    const ana = await device('ana', 'boards/3')
    const { id } = ana.model.collection('tasks').create({ title: 'Ship', done: false })
    await ana.handle.whenSaved()
    const post = async (update: Uint8Array) => {
      const response = await fetch(`${relay!.httpUrl}/v1/docs/boards%2F3/update`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await writeToken('mallory')}` },
        body: update as BodyInit,
      })
      return { status: response.status, body: (await response.json()) as { code: string } }
    }
    const unknown = await post(
      await rawUpdate('boards/3', (doc) => doc.getMap('secrets').set('a', 1)),
    )
    expect(unknown).toMatchObject({ status: 422, body: { code: 'SCHEMA_VIOLATION' } })
    const creator = await post(
      await rawUpdate('boards/3', (doc) => record(doc, id).set('@createdBy', 'mallory')),
    )
    expect(creator).toMatchObject({ status: 422, body: { code: 'SCHEMA_VIOLATION' } })
    expect(JSON.stringify(creator.body)).toContain(`createdBy of tasks record \\"${id}\\"`)
    const replaced = await post(
      await rawUpdate('boards/3', (doc) => doc.getMap('tasks').set(id, new Y.Map())),
    )
    expect(replaced).toMatchObject({ status: 422, body: { code: 'SCHEMA_VIOLATION' } })
    const fine = await post(
      await rawUpdate('boards/3', (doc) =>
        record(doc, id).set(`=title|${encodeStamp(Date.now(), 0)}|mallory`, { v: 'Ship it' }),
      ),
    )
    expect(fine.status).toBe(200)
    const tasks = await storedTasks('boards/3')
    expect(tasks).toEqual([expect.objectContaining({ id, createdBy: 'ana', title: 'Ship it' })])
    expect(await relay!.relay.documents.json('boards/3', { raw: true })).not.toHaveProperty(
      'content.secrets',
    )
  })

  it('holds in-process services to the schema too', async () => {
    await start()
    const service = await relay!.relay.documents.open('boards/4', { service: 'importer' })
    await expect(
      service.transact((doc) => {
        doc.getMap('tasks').set('t1', 'not a record')
      }),
    ).rejects.toMatchObject({ code: 'SCHEMA_VIOLATION' })
    await service.change((model) => {
      model.collection('tasks').create({ title: 'Imported', done: true }, { id: 't2' })
    })
    await service.close()
    expect(await storedTasks('boards/4')).toEqual([
      expect.objectContaining({ id: 't2', createdBy: 'service:importer' }),
    ])
  })

  it('leaves documents without a schema as they were', async () => {
    await start()
    const handle = testClient(relay!, { user: 'ana' }).open('notes/1')
    await handle.whenSynced()
    handle.doc.getMap('anything').set('k', 1)
    await handle.whenSaved()
    expect(handle.rejected).toEqual([])
  })
})
