import { describe, expect, expectTypeOf, it } from 'vitest'
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
      done: field.boolean(),
      status: field.enum(['todo', 'doing', 'done']),
      estimate: field.number().nullable(),
      assignee: field.ref('people').nullable(),
      notes: field.text(),
      tags: field.list(field.string()),
    },
  },
})

/** Two replicas of one document, each with its own author and (optionally skewed) clock. */
const pair = (skewMs = 0) => {
  const [a, b] = [new Y.Doc(), new Y.Doc()]
  const sync = (): void => {
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
  }
  const alice = openModel(a, board, { author: 'alice' })
  const bob = openModel(b, board, {
    author: 'bob',
    clock: new HybridClock(() => Date.now() + skewMs),
  })
  return { alice, bob, sync }
}

describe('the document model', () => {
  it('creates, reads, updates, lists and deletes typed records with ownership metadata', () => {
    const { alice } = pair()
    const tasks = alice.collection('tasks')
    const task = tasks.create({ title: 'write tests', done: false, status: 'todo', tags: ['a'] })
    expect(task).toMatchObject({
      title: 'write tests',
      done: false,
      status: 'todo',
      estimate: null,
      assignee: null,
      createdBy: 'alice',
      owner: 'alice',
    })
    expect(task.notes).toBeInstanceOf(Y.Text)
    // Static types follow the schema (checked by tsc).
    expectTypeOf(task.status).toEqualTypeOf<'todo' | 'doing' | 'done'>()
    expectTypeOf(task.estimate).toEqualTypeOf<number | null>()
    expectTypeOf(task.title).toEqualTypeOf<string>()
    expectTypeOf(task.notes).toEqualTypeOf<Y.Text>()
    expectTypeOf(task.tags).toEqualTypeOf<Y.Array<string>>()
    // @ts-expect-error not a value of the enum
    expect(() => tasks.update(task.id, { status: 'blocked' })).toThrow()
    // @ts-expect-error title is required at creation
    expect(() => tasks.create({ done: false, status: 'todo' })).toThrow()
    expect(task.tags.toArray()).toEqual(['a'])
    tasks.update(task.id, { done: true, estimate: 3 })
    expect(tasks.get(task.id)).toMatchObject({ done: true, estimate: 3 })
    tasks.update(task.id, { estimate: null })
    expect(tasks.get(task.id)?.estimate).toBeNull()
    expect(tasks.list().map((each) => each.id)).toEqual([task.id])
    tasks.delete(task.id)
    expect(tasks.get(task.id)).toBeNull()
    expect(tasks.isDeleted(task.id)).toBe(true)
    tasks.restore(task.id)
    expect(tasks.get(task.id)?.estimate).toBeNull()
  })

  it('validates writes with an error naming the record and the field', () => {
    const { alice } = pair()
    const tasks = alice.collection('tasks')
    const task = tasks.create({ title: 't', done: false, status: 'todo' })
    expect(() => tasks.update(task.id, { status: 'blocked' as never })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining(`tasks.status of record "${task.id}"`),
      }),
    )
    expect(() => tasks.update(task.id, { done: null as never })).toThrow(
      /tasks.done .* may not be null/,
    )
    expect(() => tasks.create({ title: 1 as never, done: false, status: 'todo' })).toThrow(
      /tasks.title .* must be a string/,
    )
    expect(() => tasks.update('missing', { done: true })).toThrow(/no record "missing"/)
  })

  it('keeps every concurrent value: the same winner and journal everywhere, resolved by a write', () => {
    const { alice, bob, sync } = pair()
    const id = alice.collection('tasks').create({ title: 'draft', done: false, status: 'todo' }).id
    sync()
    alice.collection('tasks').update(id, { title: 'from alice' })
    bob.collection('tasks').update(id, { title: 'from bob' })
    sync()
    const [fromA, fromB] = [alice.conflicts(), bob.conflicts()]
    expect(fromA).toEqual(fromB)
    expect(fromA).toHaveLength(1)
    expect(fromA[0]).toMatchObject({ collection: 'tasks', id, field: 'title' })
    expect(fromA[0]!.values.map((entry) => entry.value).sort()).toEqual(['from alice', 'from bob'])
    const winner = fromA[0]!.values[0]!.value
    expect(alice.collection('tasks').get(id)?.title).toBe(winner)
    expect(bob.collection('tasks').get(id)?.title).toBe(winner)

    bob.resolve({ collection: 'tasks', id, field: 'title' }, 'agreed')
    sync()
    expect(alice.conflicts()).toEqual([])
    expect(alice.collection('tasks').get(id)?.title).toBe('agreed')
  })

  it('keeps a deleted record deleted though another replica edits it concurrently', () => {
    const { alice, bob, sync } = pair()
    const id = alice.collection('tasks').create({ title: 'doomed', done: false, status: 'todo' }).id
    sync()
    alice.collection('tasks').delete(id)
    bob.collection('tasks').update(id, { title: 'edited meanwhile' })
    sync()
    expect(alice.collection('tasks').get(id)).toBeNull()
    expect(bob.collection('tasks').get(id)).toBeNull()
    // The edit is kept: restoring shows it.
    alice.collection('tasks').restore(id)
    sync()
    expect(bob.collection('tasks').get(id)?.title).toBe('edited meanwhile')
  })

  it('keeps "set to null" and "delete the record" apart through a merge', () => {
    const { alice, bob, sync } = pair()
    const id = alice
      .collection('tasks')
      .create({ title: 'n', done: false, status: 'todo', estimate: 5 }).id
    sync()
    alice.collection('tasks').update(id, { estimate: null })
    bob.collection('tasks').delete(id)
    sync()
    for (const model of [alice, bob]) {
      expect(model.collection('tasks').get(id)).toBeNull()
      expect(model.collection('tasks').isDeleted(id)).toBe(true)
    }
    bob.collection('tasks').restore(id)
    sync()
    expect(alice.collection('tasks').get(id)?.estimate).toBeNull()
    expect(alice.collection('tasks').get(id)?.title).toBe('n')
  })

  it('tells observers about local and remote changes to a collection', () => {
    const { alice, bob, sync } = pair()
    const seen: string[] = []
    const off = bob.collection('tasks').observe(() => seen.push('change'))
    const id = alice.collection('tasks').create({ title: 'o', done: false, status: 'todo' }).id
    sync()
    expect(seen.length).toBeGreaterThan(0)
    const before = seen.length
    bob.collection('tasks').update(id, { done: true })
    expect(seen.length).toBeGreaterThan(before)
    off()
    const after = seen.length
    alice.collection('tasks').update(id, { title: 'p' })
    sync()
    expect(seen.length).toBe(after)
  })

  it('does not let a device with a clock hours behind lose forever, nor one hours ahead win forever', () => {
    const threeHours = 3 * 60 * 60 * 1000
    for (const skew of [-threeHours, threeHours]) {
      const { alice, bob, sync } = pair(skew)
      const id = alice.collection('tasks').create({ title: 'x', done: false, status: 'todo' }).id
      sync()
      alice.collection('tasks').update(id, { status: 'doing' })
      bob.collection('tasks').update(id, { status: 'done' })
      sync()
      // Concurrent: the stamps decide (skewed), but both values are in the journal.
      expect(alice.conflicts({ field: 'status' })[0]?.values).toHaveLength(2)
      // Whoever writes after seeing the other wins, whatever the clocks say.
      const later = skew < 0 ? bob : alice
      later.collection('tasks').update(id, { status: 'todo' })
      sync()
      expect(alice.collection('tasks').get(id)?.status).toBe('todo')
      expect(bob.collection('tasks').get(id)?.status).toBe('todo')
      expect(alice.conflicts()).toEqual([])
    }
  })
})

describe('migrations and compatibility', () => {
  const v2 = defineSchema({
    version: 2,
    collections: {
      ...board.collections,
      tasks: { ...board.collections.tasks, priority: field.number() },
    },
    migrations: [
      {
        version: 2,
        up: (context) => {
          for (const id of context.ids('tasks')) {
            if (context.get('tasks', id, 'priority') === undefined) {
              context.set(
                'tasks',
                id,
                'priority',
                context.get('tasks', id, 'done') === true ? 0 : 1,
              )
            }
          }
        },
      },
    ],
  })

  it('converges to identical state when two replicas migrate at once, without conflicts', () => {
    const [a, b] = [new Y.Doc(), new Y.Doc()]
    const old = openModel(a, board, { author: 'alice' })
    old.migrate()
    const ids = [0, 1, 2].map(
      (index) =>
        old.collection('tasks').create({ title: `t${index}`, done: index === 0, status: 'todo' })
          .id,
    )
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    const [ma, mb] = [openModel(a, v2, { author: 'alice' }), openModel(b, v2, { author: 'bob' })]
    expect(ma.status).toMatchObject({ mode: 'writable', storedVersion: 1, pendingMigrations: 1 })
    ma.migrate()
    mb.migrate()
    mb.migrate() // idempotent
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
    expect(Y.encodeStateVector(a)).toEqual(Y.encodeStateVector(b))
    expect(a.getMap('tasks').toJSON()).toEqual(b.getMap('tasks').toJSON())
    expect(ma.conflicts()).toEqual([])
    expect(ids.map((id) => ma.collection('tasks').get(id)?.priority)).toEqual([0, 1, 1])
    expect(ma.status).toMatchObject({ storedVersion: 2, pendingMigrations: 0 })
  })

  it('lets an older client edit a record without dropping fields it does not know', () => {
    const [a, b] = [new Y.Doc(), new Y.Doc()]
    const newer = openModel(a, v2, { author: 'alice' })
    newer.migrate()
    const id = newer
      .collection('tasks')
      .create({ title: 't', done: false, status: 'todo', priority: 5 }).id
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    // An app still on version 1 of the schema edits the record (version 2 was additive).
    const older = openModel(b, board, { author: 'bob' })
    expect(older.status).toMatchObject({ mode: 'writable', storedVersion: 2 })
    older.collection('tasks').update(id, { done: true, title: 'edited by the old app' })
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
    expect(newer.collection('tasks').get(id)).toMatchObject({
      title: 'edited by the old app',
      done: true,
      priority: 5,
    })
  })

  it('opens a document read-only, with the reason, for an app older than a breaking migration', () => {
    const v3 = defineSchema({
      version: 3,
      collections: v2.collections,
      migrations: [...v2.migrations, { version: 3, breaking: true, up: () => {} }],
    })
    const [a, b] = [new Y.Doc(), new Y.Doc()]
    const newest = openModel(a, v3, { author: 'alice' })
    newest.migrate()
    const id = newest
      .collection('tasks')
      .create({ title: 't', done: false, status: 'todo', priority: 1 }).id
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    const older = openModel(b, v2, { author: 'bob' })
    expect(older.status).toMatchObject({ mode: 'read-only', storedVersion: 3 })
    expect(older.status.mode === 'read-only' && older.status.reason).toContain('version 3')
    expect(() => older.collection('tasks').update(id, { done: true })).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN' }),
    )
    expect(older.collection('tasks').get(id)?.title).toBe('t')
  })
})
