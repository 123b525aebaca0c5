import { expect, it } from 'vitest'
import * as Y from 'yjs'
import { defineSchema, field, openModel } from '../src/index.js'

// The worked example of packages/doc/README.md, run as written.
it('runs the README task-board example', () => {
  const taskBoard = defineSchema({
    version: 1,
    collections: {
      people: { name: field.string() },
      tasks: {
        title: field.string(),
        status: field.enum(['todo', 'doing', 'done']),
        assignee: field.ref('people').nullable(),
        notes: field.text(),
      },
    },
  })

  // Two devices, each with its own copy of the document.
  const laptopDoc = new Y.Doc()
  const phoneDoc = new Y.Doc()
  const laptop = openModel(laptopDoc, taskBoard, { author: 'ana' })
  const phone = openModel(phoneDoc, taskBoard, { author: 'ben' })
  laptop.migrate() // a new document: stores the schema version

  const ana = laptop.collection('people').create({ name: 'Ana' })
  const task = laptop.collection('tasks').create({
    title: 'Ship the beta',
    status: 'todo',
    assignee: ana.id,
  })
  const sync = (): void => {
    Y.applyUpdate(phoneDoc, Y.encodeStateAsUpdate(laptopDoc, Y.encodeStateVector(phoneDoc)))
    Y.applyUpdate(laptopDoc, Y.encodeStateAsUpdate(phoneDoc, Y.encodeStateVector(laptopDoc)))
  }
  sync()

  // Both go offline and edit the same task.
  laptop.collection('tasks').update(task.id, { status: 'doing' })
  phone.collection('tasks').update(task.id, { status: 'done', assignee: null })
  laptop.collection('tasks').get(task.id)?.notes.insert(0, 'Checklist: ')
  phone.collection('tasks').get(task.id)?.notes.insert(0, 'Release notes. ')

  sync() // back online

  // Both devices show the same winner (the later stamp)…
  const onLaptop = laptop.collection('tasks').get(task.id)!
  const onPhone = phone.collection('tasks').get(task.id)!
  expect(onLaptop.status).toBe(onPhone.status)
  // …the assignee, changed on one side only, is simply null…
  expect(onLaptop.assignee).toBeNull()
  // …the texts merged character by character…
  expect(onLaptop.notes.toString()).toBe(onPhone.notes.toString())
  expect(onLaptop.notes.toString()).toContain('Checklist: ')
  expect(onLaptop.notes.toString()).toContain('Release notes. ')

  // …and the losing status is in the conflict journal, on both devices.
  const [conflict] = laptop.conflicts({ collection: 'tasks', id: task.id })
  expect(conflict?.field).toBe('status')
  expect(conflict?.values.map((value) => [value.value, value.author]).sort()).toEqual([
    ['doing', 'ana'],
    ['done', 'ben'],
  ])
  expect(phone.conflicts()).toEqual(laptop.conflicts())

  // Ana picks a value: the resolution supersedes both, everywhere.
  laptop.resolve(conflict!, 'doing')
  sync()
  expect(phone.conflicts()).toEqual([])
  expect(phone.collection('tasks').get(task.id)?.status).toBe('doing')
})
