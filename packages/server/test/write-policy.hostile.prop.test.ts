import { defineSchema, encodeStamp, field, openModel } from '@weft/doc'
import { jwtAuth, type RecordRules } from '@weft/server'
import {
  chooseSeed,
  mulberry32,
  startTestRelay,
  testClient,
  TEST_SECRET,
  type TestRelay,
} from '@weft/testkit'
import { SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

const board = defineSchema({
  version: 1,
  collections: {
    tasks: {
      title: field.string(),
      done: field.boolean(),
      status: field.enum(['todo', 'done']),
      notes: field.text(),
      tags: field.list(field.string()),
    },
  },
})
const rules: RecordRules = { tasks: { update: 'owner', ownerChange: { role: 'admin' } } }
const DOC = 'boards/fuzz'
const EXECUTIONS = 60

type Random = () => number
const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T

/** Values that fit no field of the given type. */
const WRONG: Record<string, readonly unknown[]> = {
  title: [7, true, null, ['a'], { a: 1 }, new Uint8Array([1])],
  done: ['yes', 0, null, [], { v: true }],
  status: ['doing', 'TODO', 3, null, ''],
}

const stamp = (): string => encodeStamp(Date.now(), 0)

/**
 * Updates that look like the model's writes (register keys, record maps, metadata) but break the
 * schema or the record rules for `ben`, who owns none of the records. Each edits `doc`, a replica
 * of the relay's copy, and says what it is.
 */
const hostileEdits: ReadonlyArray<(doc: Y.Doc, id: string, random: Random) => string> = [
  (doc, id, random) => {
    const name = pick(random, Object.keys(WRONG))
    record(doc, id).set(`=${name}|${stamp()}|ben`, { v: pick(random, WRONG[name]!) })
    return `wrong-typed ${name}`
  },
  (doc, id) => (record(doc, id).set(`=colour|${stamp()}|ben`, { v: 'red' }), 'unknown field'),
  (doc, id) => (record(doc, id).set(`=title|not-a-stamp|ben`, { v: 'x' }), 'malformed key'),
  (doc, id) => (record(doc, id).set('title', 'x'), 'bare key'),
  (doc, id) => (record(doc, id).set(`=title|${stamp()}|ben`, 'x'), 'value without { v }'),
  (doc, id) => (record(doc, id).set('@createdBy', 'ben'), 'rewritten createdBy'),
  (doc, id) => (record(doc, id).set('@createdAt', 0), 'rewritten createdAt'),
  (doc, id) => (record(doc, id).delete('@createdBy'), 'removed createdBy'),
  (doc, id) => (record(doc, id).set('~notes', new Y.Text('replaced')), 'replaced text'),
  (doc, id) => (record(doc, id).set('~tags', new Y.Text('x')), 'text as a list'),
  (doc, id) => ((record(doc, id).get('~tags') as Y.Array<unknown>).push([1]), 'wrong list item'),
  (doc, id) => (
    (record(doc, id).get('~tags') as Y.Array<unknown>).push([new Y.Map()]),
    'nested list item'
  ),
  (doc, id) => (doc.getMap('tasks').set(id, new Y.Map()), 'replaced record'),
  (doc, id) => (doc.getMap('tasks').delete(id), 'removed record'),
  (doc) => (doc.getMap('tasks').set('', new Y.Map()), 'empty record id'),
  (doc) => (doc.getMap('tasks').set('plain', 'value'), 'record that is no map'),
  (doc, _id, random) => (
    doc.getMap(pick(random, ['people', 'weft:secrets', 'Tasks'])).set('a', 1),
    'unknown collection'
  ),
  (doc) => (doc.getText('tasks').insert(0, 'x'), 'collection as text'),
  (doc) => (doc.getMap('weft:schema').set(`=version|${stamp()}|x`, { v: 'two' }), 'bad version'),
  (doc, id) => (model(doc).collection('tasks').update(id, { title: 'mine now' }), 'foreign edit'),
  (doc, id) => (model(doc).collection('tasks').delete(id), 'foreign delete'),
  (doc, id) => (model(doc).collection('tasks').setOwner(id, 'ben'), 'self-given ownership'),
  (doc) => (
    openModel(doc, board, { author: 'ana' })
      .collection('tasks')
      .create({ title: 'forged', done: false, status: 'todo' }),
    'forged creator'
  ),
]

const record = (doc: Y.Doc, id: string): Y.Map<unknown> =>
  doc.getMap<Y.Map<unknown>>('tasks').get(id) as Y.Map<unknown>
const model = (doc: Y.Doc) => openModel(doc, board, { author: 'ben' })

const token = (sub: string): Promise<string> =>
  new SignJWT({ weft: { docs: [{ pattern: '**', access: 'write' }] } })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(TEST_SECRET))

let relay: TestRelay | null = null
afterEach(async () => {
  await relay?.close()
  relay = null
})

describe('hostile updates that look like the model', () => {
  it('are refused on both paths whatever their order; the store keeps only honest edits', async () => {
    const seed = chooseSeed('write-policy hostile')
    const random = mulberry32(seed)
    relay = await startTestRelay({
      httpApi: true,
      auth: jwtAuth({ secret: TEST_SECRET }),
      schemas: [{ pattern: 'boards/*', schema: board, rules }],
    })
    const ana = testClient(relay, { token: () => token('ana') }).open(DOC)
    await ana.whenSynced()
    const anaTasks = openModel(ana.doc, board, { author: 'ana' }).collection('tasks')
    const ids = [0, 1, 2].map(
      (n) => anaTasks.create({ title: `task ${n}`, done: false, status: 'todo', tags: ['a'] }).id,
    )
    await ana.whenSaved()
    const ben = testClient(relay, { token: () => token('ben') }).open(DOC)
    await ben.whenSynced()
    const benToken = await token('ben')
    for (let execution = 0; execution < EXECUTIONS; execution++) {
      const replica = new Y.Doc()
      Y.applyUpdate(replica, await relay.relay.documents.update(DOC))
      const before = Y.encodeStateVector(replica)
      const id = pick(random, ids)
      const what = pick(random, hostileEdits)(replica, id, random)
      const update = Y.encodeStateAsUpdate(replica, before)
      const where = `seed=${seed} execution ${execution}: ${what}`
      if (random() < 0.5) {
        const response = await fetch(`${relay.httpUrl}/v1/docs/${encodeURIComponent(DOC)}/update`, {
          method: 'POST',
          headers: { authorization: `Bearer ${benToken}` },
          body: update as BodyInit,
        })
        const { code } = (await response.json()) as { code?: string }
        expect([403, 422], where).toContain(response.status)
        expect(['FORBIDDEN', 'SCHEMA_VIOLATION'], where).toContain(code)
      } else {
        const reset = new Promise((resolve) => ben.once('reset', resolve))
        Y.applyUpdate(ben.doc, update)
        const refusal = await ben.whenSaved().then(
          () => null,
          (error: { code: string }) => error.code,
        )
        expect(['FORBIDDEN', 'SCHEMA_VIOLATION'], where).toContain(refusal)
        await reset
      }
      if (random() < 0.3) {
        anaTasks.update(id, { done: !anaTasks.get(id)?.done })
        await ana.whenSaved()
      }
    }
    await ben.whenSynced()
    expect(ben.rejected.length).toBeGreaterThan(0)
    const json = await relay.relay.documents.json(DOC, { raw: true })
    expect(Object.keys('content' in json ? json.content : {}).sort()).toEqual(['tasks'])
    const stored = openModel(ana.doc, board, { author: 'ana' }).toJSON()
    // Created in the same millisecond, the tasks list in the order of their random ids.
    expect(stored.collections.tasks.map((task) => task['title']).sort()).toEqual([
      'task 0',
      'task 1',
      'task 2',
    ])
    expect(stored.collections.tasks.every((task) => task['owner'] === 'ana')).toBe(true)
    expect(stored.conflicts).toEqual([])
    const fromRelay = await relay.relay.documents.json(DOC)
    expect('model' in fromRelay && fromRelay.model.collections['tasks']).toEqual(
      stored.collections.tasks,
    )
  })
})
