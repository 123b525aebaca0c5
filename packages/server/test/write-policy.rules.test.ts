import { defineSchema, field, openModel } from '@weft/doc'
import { jwtAuth, type RecordRules } from '@weft/server'
import { startTestRelay, testClient, TEST_SECRET, type TestRelay } from '@weft/testkit'
import { SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

const board = defineSchema({
  version: 1,
  collections: {
    tasks: { title: field.string(), done: field.boolean() },
    notes: { body: field.text() },
  },
})

/** Tasks: anyone writing the board creates them; their owner (or an admin) edits them. */
const rules: RecordRules = {
  tasks: {
    update: ['owner', { role: 'admin' }],
    delete: 'owner',
    ownerChange: { role: 'admin' },
  },
}

let relay: TestRelay | null = null
afterEach(async () => {
  await relay?.close()
  relay = null
})

const start = async (): Promise<TestRelay> =>
  (relay = await startTestRelay({
    httpApi: true,
    auth: jwtAuth({ secret: TEST_SECRET }),
    schemas: [{ pattern: 'boards/*', schema: board, rules }],
  }))

/** A token writing every document, with roles. */
const token = (sub: string, roles: readonly string[] = []): Promise<string> =>
  new SignJWT({ weft: { docs: [{ pattern: '**', access: 'write' }], roles } })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(TEST_SECRET))

/** A synced Weft handle of `user` on `name`, with the model open on it. */
const device = async (user: string, name: string, roles: readonly string[] = []) => {
  const client = testClient(relay!, { token: () => token(user, roles) })
  const handle = client.open(name)
  await handle.whenSynced()
  const model = () => openModel(handle.doc, board, { author: user })
  return { client, handle, model, tasks: () => model().collection('tasks') }
}

const storedTasks = async (name: string) => {
  const json = await relay!.relay.documents.json(name)
  return 'model' in json ? json.model.collections['tasks'] : null
}

/** Gives a task another owner through the model. */
const giveTo = (
  model: ReturnType<typeof openModel<typeof board.collections>>,
  id: string,
  owner: string,
): void => model.collection('tasks').setOwner(id, owner)

describe('record rules', () => {
  it("refuses another user's task edited by a writer of tasks: rejected, kept aside, store untouched", async () => {
    await start()
    const ana = await device('ana', 'boards/1')
    const { id } = ana.tasks().create({ title: 'Ship', done: false })
    await ana.handle.whenSaved()
    const ben = await device('ben', 'boards/1')
    const own = ben.tasks().create({ title: 'Review', done: false })
    await ben.handle.whenSaved()
    const reset = new Promise<Y.Doc>((resolve) =>
      ben.handle.once('reset', ({ doc }) => resolve(doc)),
    )
    ben.tasks().update(id, { title: 'Ship (taken by ben)' })
    await expect(ben.handle.whenSaved()).rejects.toMatchObject({ code: 'FORBIDDEN' })
    expect(ben.handle.rejected.map((edit) => edit.code)).toEqual(['FORBIDDEN'])
    expect(ben.handle.rejected[0]?.reason).toContain(`tasks record "${id}": writing title`)
    // The device's document is rebuilt without the refused edit; its own task stays editable.
    await reset
    expect(ben.tasks().get(id)?.title).toBe('Ship')
    ben.tasks().update(own.id, { done: true })
    await ben.handle.whenSaved()
    expect(await storedTasks('boards/1')).toEqual([
      expect.objectContaining({ id, title: 'Ship', owner: 'ana' }),
      expect.objectContaining({ id: own.id, done: true, owner: 'ben' }),
    ])
  })

  it('refuses a create or a value that claims another writer', async () => {
    await start()
    const ben = await device('ben', 'boards/2')
    const reset = new Promise((resolve) => ben.handle.once('reset', resolve))
    openModel(ben.handle.doc, board, { author: 'ana' })
      .collection('tasks')
      .create({ title: 'Forged', done: false })
    await expect(ben.handle.whenSaved()).rejects.toMatchObject({ code: 'FORBIDDEN' })
    expect(ben.handle.rejected[0]?.reason).toContain('createdBy must be the writer')
    await expect(storedTasks('boards/2')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await reset
    const { id } = ben.tasks().create({ title: 'Mine', done: false })
    await ben.handle.whenSaved()
    // Ben's own task, but the value claims to be ana's (register keys name their author).
    openModel(ben.handle.doc, board, { author: 'ana' })
      .collection('tasks')
      .update(id, { done: true })
    await expect(ben.handle.whenSaved()).rejects.toMatchObject({ code: 'FORBIDDEN' })
    expect(ben.handle.rejected.at(-1)?.reason).toContain('values must be written as')
    expect(await storedTasks('boards/2')).toEqual([expect.objectContaining({ id, done: false })])
  })

  it('refuses an owner change by a non-admin and takes it from an admin', async () => {
    await start()
    const ana = await device('ana', 'boards/3')
    const { id } = ana.tasks().create({ title: 'Ship', done: false })
    await ana.handle.whenSaved()
    giveTo(ana.model(), id, 'ben')
    await expect(ana.handle.whenSaved()).rejects.toMatchObject({ code: 'FORBIDDEN' })
    expect(ana.handle.rejected[0]?.reason).toContain(
      'changing its owner is allowed to role "admin"',
    )
    expect(await storedTasks('boards/3')).toEqual([expect.objectContaining({ owner: 'ana' })])
    const admin = await device('root', 'boards/3', ['admin'])
    giveTo(admin.model(), id, 'ben')
    await admin.handle.whenSaved()
    expect(await storedTasks('boards/3')).toEqual([expect.objectContaining({ owner: 'ben' })])
    // Now ben's, not ana's: her edit is refused, his goes through.
    ana.tasks().update(id, { done: true })
    await expect(ana.handle.whenSaved()).rejects.toMatchObject({ code: 'FORBIDDEN' })
    const ben = await device('ben', 'boards/3')
    ben.tasks().delete(id)
    await ben.handle.whenSaved()
    expect(await storedTasks('boards/3')).toEqual([])
  })

  it('refuses an offline edit when ownership changed meanwhile: kept aside and visible after reconnect', async () => {
    await start()
    const ben = await device('ben', 'boards/4')
    const { id } = ben.tasks().create({ title: 'Draft', done: false })
    await ben.handle.whenSaved()
    ben.client.disconnect()
    ben.tasks().update(id, { title: 'Draft, edited offline' })
    await ben.handle.whenStored()
    expect(ben.handle.pending).toBe(1)
    const admin = await device('root', 'boards/4', ['admin'])
    giveTo(admin.model(), id, 'ana')
    await admin.handle.whenSaved()
    const rejected = new Promise((resolve) => ben.handle.once('rejected', resolve))
    const reset = new Promise((resolve) => ben.handle.once('reset', resolve))
    ben.client.connect()
    await rejected
    await reset
    expect(ben.handle.rejected).toEqual([
      expect.objectContaining({ code: 'FORBIDDEN', reason: expect.stringContaining(id) }),
    ])
    // The refused edit's bytes are kept: applied to a copy they show what the user typed.
    const kept = new Y.Doc()
    Y.applyUpdate(kept, Y.encodeStateAsUpdate(ben.handle.doc))
    Y.applyUpdate(kept, ben.handle.rejected[0]!.update)
    expect(openModel(kept, board, { author: 'ben' }).collection('tasks').get(id)?.title).toBe(
      'Draft, edited offline',
    )
    expect(ben.handle.pending).toBe(0)
    expect(ben.tasks().get(id)).toMatchObject({ title: 'Draft', owner: 'ana' })
    expect(await storedTasks('boards/4')).toEqual([
      expect.objectContaining({ title: 'Draft', owner: 'ana' }),
    ])
  })

  it('refuses a batch with one refused record whole', async () => {
    await start()
    const ana = await device('ana', 'boards/5')
    const { id } = ana.tasks().create({ title: 'Ana', done: false })
    await ana.handle.whenSaved()
    const ben = await device('ben', 'boards/5')
    ben.client.disconnect()
    ben.tasks().create({ title: 'Ben, offline', done: false })
    ben.tasks().update(id, { done: true })
    await ben.handle.whenStored()
    ben.client.connect()
    await expect(ben.handle.whenSaved()).rejects.toMatchObject({ code: 'FORBIDDEN' })
    expect(await storedTasks('boards/5')).toEqual([expect.objectContaining({ id, done: false })])
  })

  it('applies the rules to POST /update and /records, with the token roles', async () => {
    await start()
    const ana = await device('ana', 'boards/6')
    const { id } = ana.tasks().create({ title: 'Ship', done: false })
    await ana.handle.whenSaved()
    const records = async (sub: string, roles: readonly string[] = []) => {
      const response = await fetch(`${relay!.httpUrl}/v1/docs/boards%2F6/records`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await token(sub, roles)}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          changes: [{ op: 'update', collection: 'tasks', id, fields: { done: true } }],
        }),
      })
      return { status: response.status, body: (await response.json()) as { code?: string } }
    }
    expect(await records('ben')).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } })
    expect(await storedTasks('boards/6')).toEqual([expect.objectContaining({ done: false })])
    expect((await records('root', ['admin'])).status).toBe(200)
    expect(await storedTasks('boards/6')).toEqual([expect.objectContaining({ done: true })])
  })

  it('leaves collections without rules to the scopes', async () => {
    await start()
    const ana = await device('ana', 'boards/7')
    const note = ana.model().collection('notes').create({ body: 'hello' })
    await ana.handle.whenSaved()
    const ben = await device('ben', 'boards/7')
    ben.model().collection('notes').get(note.id)?.body.insert(5, ', world')
    await ben.handle.whenSaved()
    expect(ben.handle.rejected).toEqual([])
  })
})
