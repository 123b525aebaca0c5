import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { openModel } from '../src/model.js'
import { defineSchema, field } from '../src/schema.js'

const schema = defineSchema({ version: 1, collections: { tasks: { title: field.string() } } })

describe('setOwner', () => {
  it('changes owner, never createdBy, and reaches other replicas', () => {
    const doc = new Y.Doc()
    const tasks = openModel(doc, schema, { author: 'ana' }).collection('tasks')
    const { id } = tasks.create({ title: 'Ship' })
    tasks.setOwner(id, 'ben')
    expect(tasks.get(id)).toMatchObject({ createdBy: 'ana', owner: 'ben' })
    const copy = new Y.Doc()
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
    const other = openModel(copy, schema, { author: 'ben' }).collection('tasks')
    expect(other.get(id)?.owner).toBe('ben')
    expect(openModel(copy, schema, { author: 'ben' }).toJSON().collections.tasks[0]).toMatchObject({
      owner: 'ben',
      createdBy: 'ana',
    })
  })

  it('refuses an empty owner and a missing record, writing nothing', () => {
    const doc = new Y.Doc()
    const tasks = openModel(doc, schema, { author: 'ana' }).collection('tasks')
    const { id } = tasks.create({ title: 'Ship' })
    const before = Y.encodeStateVector(doc)
    expect(() => tasks.setOwner(id, '')).toThrow(/owner of tasks .* must be a non-empty string/)
    expect(() => tasks.setOwner('nope', 'ben')).toThrow(/tasks has no record "nope"/)
    expect(Y.encodeStateVector(doc)).toEqual(before)
  })
})
