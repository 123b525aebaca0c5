import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { HybridClock, encodeStamp } from '../src/hlc.js'
import { openModel } from '../src/model.js'
import { inspectRecordWrites, type RecordWriteInspection } from '../src/record-writes.js'
import { defineSchema, field } from '../src/schema.js'

const schema = defineSchema({
  version: 1,
  collections: {
    tasks: {
      title: field.string(),
      status: field.enum(['todo', 'done']),
      notes: field.text(),
      tags: field.list(field.string()),
    },
  },
})

/** A relay-like document (roots never typed) and a device writing through the model. */
const setup = () => {
  const relay = new Y.Doc()
  const device = (author: string, clientID: number) => {
    const doc = new Y.Doc()
    doc.clientID = clientID
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(relay))
    const updates: Uint8Array[] = []
    doc.on('update', (update: Uint8Array) => updates.push(update))
    const model = openModel(doc, schema, { author, clock: new HybridClock(() => 1_000) })
    /** Inspects what the device wrote since the last call, then applies it to the relay. */
    const send = (apply = true): RecordWriteInspection => {
      const merged = Y.mergeUpdates(updates.splice(0))
      const result = inspectRecordWrites(relay, Y.decodeUpdate(merged), schema)
      if (apply) Y.applyUpdate(relay, merged)
      return result
    }
    return { doc, model, send, tasks: model.collection('tasks') }
  }
  return { relay, device }
}

/** Inspects a raw edit made on a replica of `relay` (apply it too when `apply`). */
const rawEdit = (relay: Y.Doc, edit: (doc: Y.Doc) => void, apply = false) => {
  const doc = new Y.Doc()
  doc.clientID = 99
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(relay))
  const before = Y.encodeStateVector(doc)
  edit(doc)
  const update = Y.encodeStateAsUpdate(doc, before)
  const result = inspectRecordWrites(relay, Y.decodeUpdate(update), schema)
  if (apply) Y.applyUpdate(relay, update)
  return result
}

const violation = (result: RecordWriteInspection) => (result.ok ? null : result.violation)

describe('inspectRecordWrites', () => {
  it('reports what the model writes: creates, fields, deletions and owner changes', () => {
    const { device } = setup()
    const ana = device('ana', 1)
    const task = ana.tasks.create({ title: 'Ship', status: 'todo', tags: ['a'] })
    expect(ana.send()).toEqual({
      ok: true,
      records: [
        expect.objectContaining({
          collection: 'tasks',
          id: task.id,
          created: true,
          createdBy: 'ana',
          owner: null,
        }),
      ],
    })
    const ben = device('ben', 2)
    ben.tasks.update(task.id, { status: 'done' })
    ben.tasks.get(task.id)?.notes.insert(0, 'hi')
    ben.tasks.get(task.id)?.tags.push(['b'])
    const update = ben.send()
    expect(update.ok && update.records[0]).toMatchObject({
      created: false,
      deletion: false,
      ownerChange: false,
      createdBy: 'ana',
      owner: 'ana',
    })
    expect(update.ok && [...update.records[0]!.fields].sort()).toEqual(['notes', 'status', 'tags'])
    ben.tasks.delete(task.id)
    const deletion = ben.send()
    expect(deletion.ok && deletion.records[0]?.deletion).toBe(true)
    ben.tasks.setOwner(task.id, 'ben')
    const owner = ben.send()
    expect(owner.ok && owner.records[0]).toMatchObject({ ownerChange: true, newOwners: ['ben'] })
    ben.tasks.restore(task.id)
    expect(ben.send()).toMatchObject({ ok: true, records: [{ owner: 'ben', deletion: true }] })
  })

  it('ignores content the document has already', () => {
    const { relay, device } = setup()
    const ana = device('ana', 1)
    ana.tasks.create({ title: 'Ship', status: 'todo' })
    ana.send()
    const again = inspectRecordWrites(relay, Y.decodeUpdate(Y.encodeStateAsUpdate(relay)), schema)
    expect(again).toEqual({ ok: true, records: [] })
  })

  it('refuses a wrong-typed value, naming the record and field', () => {
    const { relay, device } = setup()
    const ana = device('ana', 1)
    const { id } = ana.tasks.create({ title: 'Ship', status: 'todo' })
    ana.send()
    const result = rawEdit(relay, (doc) =>
      doc
        .getMap<Y.Map<unknown>>('tasks')
        .get(id)!
        .set(`=status|${encodeStamp(2_000, 0)}|mallory`, { v: 'burnt' }),
    )
    expect(violation(result)).toMatchObject({ collection: 'tasks', id, field: 'status' })
    expect(violation(result)?.problem).toContain(
      `tasks.status of tasks record "${id}" must be one of`,
    )
    const list = rawEdit(relay, (doc) =>
      (doc.getMap<Y.Map<unknown>>('tasks').get(id)!.get('~tags') as Y.Array<unknown>).push([7]),
    )
    expect(violation(list)).toMatchObject({ field: 'tags' })
    // Bytes are stored as their own kind of content, not as a JSON item the schema could check.
    const bytes = rawEdit(relay, (doc) =>
      (doc.getMap<Y.Map<unknown>>('tasks').get(id)!.get('~tags') as Y.Array<unknown>).push([
        Uint8Array.of(1, 2),
      ]),
    )
    expect(violation(bytes)).toMatchObject({ field: 'tags' })
    expect(violation(bytes)?.problem).toContain('is not a JSON value')
  })

  it('refuses unknown collections, keys and fields', () => {
    const { relay } = setup()
    expect(violation(rawEdit(relay, (doc) => doc.getMap('secrets').set('a', 1)))).toMatchObject({
      collection: 'secrets',
      problem: 'the schema has no collection "secrets"',
    })
    expect(violation(rawEdit(relay, (doc) => doc.getText('tasks').insert(0, 'x')))).toMatchObject({
      collection: 'tasks',
      id: null,
    })
    expect(violation(rawEdit(relay, (doc) => doc.getMap('tasks').set('r', 'text')))).toMatchObject({
      id: 'r',
      problem: 'tasks record "r" must be a map',
    })
    const stray = rawEdit(relay, (doc) => {
      const record = new Y.Map<unknown>()
      doc.getMap('tasks').set('r', record)
      record.set(`=colour|${encodeStamp(1, 0)}|x`, { v: 'red' })
    })
    expect(violation(stray)).toMatchObject({ id: 'r', field: 'colour' })
  })

  it('refuses rewriting metadata, replacing records or fields, and removing records', () => {
    const { relay, device } = setup()
    const ana = device('ana', 1)
    const { id } = ana.tasks.create({ title: 'Ship', status: 'todo' })
    ana.send()
    const record = (doc: Y.Doc) => doc.getMap<Y.Map<unknown>>('tasks').get(id)!
    expect(
      violation(rawEdit(relay, (doc) => record(doc).set('@createdBy', 'mallory'))),
    ).toMatchObject({ id, field: 'createdBy' })
    expect(
      violation(rawEdit(relay, (doc) => record(doc).set('~notes', new Y.Text('x')))),
    ).toMatchObject({ id, field: 'notes' })
    expect(
      violation(rawEdit(relay, (doc) => doc.getMap('tasks').set(id, new Y.Map()))),
    ).toMatchObject({ id, problem: `tasks record "${id}" exists: record ids are immutable` })
    expect(violation(rawEdit(relay, (doc) => doc.getMap('tasks').delete(id)))).toMatchObject({
      id,
    })
    expect(violation(rawEdit(relay, (doc) => record(doc).delete('@createdAt')))).toMatchObject({
      id,
      field: 'createdAt',
    })
  })

  it('refuses content that builds on structs the document does not have', () => {
    const { device } = setup()
    const ana = device('ana', 1)
    const { id } = ana.tasks.create({ title: 'Ship', status: 'todo' })
    ana.send(false) // lost on the way: the relay never gets the record
    ana.tasks.update(id, { title: 'Ship it' })
    expect(violation(ana.send(false))?.problem).toContain(
      'builds on content the relay does not have',
    )
  })

  it('refuses types nested deeper than the model, without recursing through them', () => {
    const { relay } = setup()
    const result = rawEdit(relay, (doc) => {
      let map = new Y.Map<unknown>()
      doc.getMap('tasks').set('r', map)
      for (let depth = 0; depth < 50; depth++) {
        const inner = new Y.Map<unknown>()
        // Each level under a higher client id: the deepest items come first in the update.
        doc.clientID = 1_000 + depth
        doc.transact(() => map.set('~notes', inner))
        map = inner
      }
    })
    expect(violation(result)?.problem).toContain('builds on content the relay does not have')
  })

  it('takes schema versions up to its own, and no other key in weft:schema', () => {
    const { relay, device } = setup()
    const ana = device('ana', 1)
    ana.model.migrate()
    expect(ana.send()).toEqual({ ok: true, records: [] })
    const register = (field: string, value: unknown) =>
      rawEdit(relay, (doc) =>
        doc.getMap('weft:schema').set(`=${field}|${encodeStamp(9, 0)}|x`, { v: value }),
      )
    expect(violation(register('minWriter', 99))?.problem).toBe(
      "weft:schema.minWriter must be an integer from 0 to 1, the schema's version",
    )
    expect(violation(register('version', 'one'))).toMatchObject({ field: 'version' })
    expect(violation(register('colour', 1))).toMatchObject({ collection: 'weft:schema' })
    expect(register('minWriter', 1)).toEqual({ ok: true, records: [] })
  })
})
