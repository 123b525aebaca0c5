import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { openModel } from '../src/model.js'
import { defineSchema, field } from '../src/schema.js'

const board = defineSchema({
  version: 1,
  collections: { tasks: { title: field.string(), notes: field.text() } },
})

const open = (author = 'backend') => openModel(new Y.Doc(), board, { author })

describe('collection.create with an id', () => {
  it('creates the record under the id given', () => {
    const tasks = open().collection('tasks')
    const task = tasks.create({ title: 'imported' }, { id: 'order-1042' })
    expect(task.id).toBe('order-1042')
    expect(tasks.get('order-1042')).toMatchObject({ id: 'order-1042', title: 'imported' })
    expect(tasks.create({ title: 'x' }, { id: 'é/ü ✓' }).id).toBe('é/ü ✓')
    expect(tasks.create({ title: 'x' }, { id: 'k'.repeat(256) }).id).toHaveLength(256)
  })

  it('throws ALREADY_EXISTS for an id that exists, deleted or not, and changes nothing', () => {
    const model = open()
    const tasks = model.collection('tasks')
    tasks.create({ title: 'first' }, { id: 't1' })
    tasks.create({ title: 'removed' }, { id: 't2' })
    tasks.delete('t2')
    const updates: Uint8Array[] = []
    model.doc.on('update', (update: Uint8Array) => updates.push(update))
    const before = Y.encodeStateAsUpdate(model.doc)
    for (const id of ['t1', 't2']) {
      expect(() => tasks.create({ title: 'again' }, { id })).toThrow(
        expect.objectContaining({ code: 'ALREADY_EXISTS', message: expect.stringContaining(id) }),
      )
    }
    expect(updates).toEqual([])
    expect(Y.encodeStateAsUpdate(model.doc)).toEqual(before)
    expect(tasks.get('t1')?.title).toBe('first')
    expect(tasks.isDeleted('t2')).toBe(true)
  })

  it('makes a retried create idempotent once the first attempt has synced', () => {
    const [device, backend] = [open('device'), open('backend')]
    device.collection('tasks').create({ title: 'from the device' }, { id: 'req-7' })
    Y.applyUpdate(backend.doc, Y.encodeStateAsUpdate(device.doc))
    expect(() => backend.collection('tasks').create({ title: 'retry' }, { id: 'req-7' })).toThrow(
      expect.objectContaining({ code: 'ALREADY_EXISTS' }),
    )
    expect(backend.collection('tasks').get('req-7')?.title).toBe('from the device')
  })

  it('rejects an id that is empty, too long, not a string or holds control characters', () => {
    const model = open()
    const tasks = model.collection('tasks')
    const before = Y.encodeStateAsUpdate(model.doc)
    for (const id of [
      '',
      'k'.repeat(257),
      'a\nb',
      'a\u0000',
      'tab\t',
      'del\u007f',
      'c1\u0085',
      7,
    ]) {
      expect(() => tasks.create({ title: 't' }, { id: id as string })).toThrow(
        expect.objectContaining({
          code: 'INVALID_ARGUMENT',
          message: expect.stringContaining('must be a non-empty string of at most 256 characters'),
        }),
      )
    }
    expect(Y.encodeStateAsUpdate(model.doc)).toEqual(before)
  })

  it('still validates the fields, and an invalid record leaves the id free', () => {
    const tasks = open().collection('tasks')
    expect(() => tasks.create({ title: 3 as never }, { id: 'fresh' })).toThrow(
      /tasks.title of record "fresh" must be a string/,
    )
    expect(tasks.create({ title: 'ok' }, { id: 'fresh' }).title).toBe('ok')
  })

  it('converges when two replicas create the same id concurrently: one record wins on both', () => {
    const [a, b] = [open('ana'), open('ben')]
    a.collection('tasks').create({ title: 'by ana' }, { id: 'same' })
    b.collection('tasks').create({ title: 'by ben' }, { id: 'same' })
    Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc))
    Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(b.doc))
    const [onA, onB] = [a.collection('tasks').get('same'), b.collection('tasks').get('same')]
    expect(onA?.title).toBe(onB?.title)
    expect(['by ana', 'by ben']).toContain(onA?.title)
    expect(a.toJSON()).toEqual(b.toJSON())
  })
})
