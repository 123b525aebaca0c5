import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { HybridClock } from '../src/hlc.js'
import { openModel } from '../src/model.js'
import { defineSchema, field } from '../src/schema.js'

const board = defineSchema({
  version: 1,
  collections: {
    people: { name: field.string() },
    tasks: {
      title: field.string(),
      estimate: field.number().nullable(),
      notes: field.text(),
      tags: field.list(field.string()),
    },
  },
})

const T0 = 1_700_000_000_000

describe('model.toJSON', () => {
  it('is empty, at stored version 0, for a new document', () => {
    const model = openModel(new Y.Doc(), board, { author: 'ana' })
    expect(model.toJSON()).toEqual({
      schemaVersion: 0,
      collections: { people: [], tasks: [] },
      conflicts: [],
    })
  })

  it('holds live records in list order with text, lists and winners as JSON, and conflicts', () => {
    let tick = 0
    const [a, b] = [new Y.Doc(), new Y.Doc()]
    const options = (author: string) => ({
      author,
      clock: new HybridClock(() => T0 + (tick += 1)),
      newId: () => `${author}-${(tick += 1)}`,
    })
    const ana = openModel(a, board, options('ana'))
    const ben = openModel(b, board, options('ben'))
    ana.migrate()
    const tasks = ana.collection('tasks')
    const second = tasks.create({ title: 'second', notes: 'n', tags: ['x'] }, { id: 'z-task' })
    const first = tasks.create({ title: 'first' }, { id: 'a-task' })
    const gone = tasks.create({ title: 'gone' })
    tasks.delete(gone.id)
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    ana.collection('tasks').update(first.id, { estimate: 2 })
    ben.collection('tasks').update(first.id, { estimate: 5 })
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))

    const json = ana.toJSON()
    expect(json).toEqual(ben.toJSON())
    expect(json.schemaVersion).toBe(1)
    expect(json.collections.people).toEqual([])
    // list() order: oldest first (second was created first).
    expect(json.collections.tasks).toEqual([
      {
        id: 'z-task',
        createdBy: 'ana',
        createdAt: second.createdAt,
        owner: 'ana',
        title: 'second',
        estimate: null,
        notes: 'n',
        tags: ['x'],
      },
      {
        id: 'a-task',
        createdBy: 'ana',
        createdAt: first.createdAt,
        owner: 'ana',
        title: 'first',
        estimate: 5,
        notes: '',
        tags: [],
      },
    ])
    expect(json.collections.tasks.map((record) => record.id)).toEqual(
      tasks.list().map((record) => record.id),
    )
    const [conflict] = ana.conflicts()
    expect(json.conflicts).toEqual([
      {
        collection: 'tasks',
        id: 'a-task',
        field: 'estimate',
        values: [
          { value: 5, author: 'ben', stamp: conflict!.values[0]!.stamp },
          { value: 2, author: 'ana', stamp: conflict!.values[1]!.stamp },
        ],
      },
    ])
    // JSON.stringify uses it, and the result survives a trip through text.
    expect(JSON.parse(JSON.stringify(ana))).toEqual(json)
  })
})
