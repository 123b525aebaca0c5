import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { changeEventsOf, type ChangeEvent } from '../src/change-events.js'
import { HybridClock } from '../src/hlc.js'
import { openModel } from '../src/model.js'
import { defineSchema, field, type Fields, type Schema } from '../src/schema.js'
import { board } from './fixtures/board.js'

const T0 = 1_700_000_000_000

/**
 * Two writing replicas (ana, ben) with deterministic clocks and ids, and a relay-like document
 * that only ever applies their updates (so its root types stay untyped, as on a relay).
 */
const setup = <C extends Readonly<Record<string, Fields>>>(schema: Schema<C>) => {
  let tick = 0
  const docs = [new Y.Doc(), new Y.Doc()] as const
  // Fixed client ids: Yjs lets the higher one win a map key both wrote, so tests are repeatable.
  docs[0].clientID = 1
  docs[1].clientID = 2
  const outboxes: Uint8Array[][] = [[], []]
  docs.forEach((doc, index) =>
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== 'remote') outboxes[index]!.push(update)
    }),
  )
  const [ana, ben] = (['ana', 'ben'] as const).map((author) =>
    openModel(docs[author === 'ana' ? 0 : 1], schema, {
      author,
      clock: new HybridClock(() => T0 + (tick += 1)),
      newId: () => `${author}-${String((tick += 1)).padStart(4, '0')}`,
    }),
  ) as [ReturnType<typeof openModel<C>>, ReturnType<typeof openModel<C>>]
  const relay = new Y.Doc()
  /** Applies `updates` to `doc` in one transaction, as the relay does; returns the events. */
  const applyWithEvents = (doc: Y.Doc, updates: readonly Uint8Array[]): ChangeEvent[] => {
    let events: ChangeEvent[] = []
    const listen = (transaction: Y.Transaction): void => {
      events = changeEventsOf(transaction, schema)
    }
    doc.on('afterTransaction', listen)
    try {
      Y.transact(doc, () => {
        for (const update of updates) Y.applyUpdate(doc, update, 'remote')
      })
    } finally {
      doc.off('afterTransaction', listen)
    }
    return events
  }
  const relayed = [0, 0]
  /** The relay receives everything ana (and ben) wrote since last time, in one transaction. */
  const toRelay = (): ChangeEvent[] => {
    const updates = outboxes.flatMap((outbox, index) => outbox.slice(relayed[index]))
    outboxes.forEach((outbox, index) => (relayed[index] = outbox.length))
    return applyWithEvents(relay, updates)
  }
  /** Ana's document receives ben's whole state, in one transaction. */
  const benToAna = (): ChangeEvent[] =>
    applyWithEvents(docs[0], [Y.encodeStateAsUpdate(docs[1], Y.encodeStateVector(docs[0]))])
  const anaToBen = (): void => Y.applyUpdate(docs[1], Y.encodeStateAsUpdate(docs[0]), 'remote')
  return { ana, ben, relay, toRelay, benToAna, anaToBen, applyWithEvents }
}

describe('changeEventsOf', () => {
  it('reports a migration and a new record with its JSON, on a document whose roots are untyped', () => {
    const { ana, toRelay } = setup(board)
    ana.migrate()
    const task = ana.collection('tasks').create({ title: 'Ship', done: false, tags: ['beta'] })
    task.notes.insert(0, 'hi')
    expect(toRelay()).toEqual([
      { type: 'schema.migrated', from: 0, to: 1 },
      {
        type: 'record.created',
        collection: 'tasks',
        id: task.id,
        record: {
          id: task.id,
          createdBy: 'ana',
          createdAt: task.createdAt,
          owner: 'ana',
          title: 'Ship',
          done: false,
          estimate: null,
          notes: 'hi', // the later text edit arrived in the same transaction: no updated event
          tags: ['beta'],
        },
      },
    ])
  })

  it('reports scalar changes with old and new values, sorted by field', () => {
    const { ana, toRelay } = setup(board)
    const id = ana.collection('tasks').create({ title: 'a', done: false }).id
    toRelay()
    ana.collection('tasks').update(id, { title: 'b', done: true })
    ana.collection('tasks').update(id, { title: 'c' })
    expect(toRelay()).toEqual([
      {
        type: 'record.updated',
        collection: 'tasks',
        id,
        changes: [
          { field: 'done', old: false, new: true },
          { field: 'title', old: 'a', new: 'c' },
        ],
      },
    ])
    ana.collection('tasks').update(id, { title: 'c' }) // same value: nothing to report
    expect(toRelay()).toEqual([])
  })

  it('tells a field set to null from a deleted record, and reports a restore', () => {
    const { ana, toRelay } = setup(board)
    const tasks = ana.collection('tasks')
    const id = tasks.create({ title: 'n', done: false, estimate: 3 }).id
    toRelay()
    tasks.update(id, { estimate: null })
    expect(toRelay()).toEqual([
      {
        type: 'record.updated',
        collection: 'tasks',
        id,
        changes: [{ field: 'estimate', old: 3, new: null }],
      },
    ])
    tasks.delete(id)
    expect(toRelay()).toEqual([{ type: 'record.deleted', collection: 'tasks', id }])
    tasks.restore(id)
    expect(toRelay()).toEqual([{ type: 'record.restored', collection: 'tasks', id }])
  })

  it('reports text and list edits by what went in and out, and the length after', () => {
    const { ana, toRelay } = setup(board)
    const task = ana.collection('tasks').create({ title: 't', done: false, notes: 'hello world' })
    toRelay()
    task.notes.delete(0, 6)
    task.notes.insert(5, '!')
    task.tags.push(['x', 'y'])
    expect(toRelay()).toEqual([
      {
        type: 'record.updated',
        collection: 'tasks',
        id: task.id,
        changes: [
          { field: 'notes', inserted: '!', deleted: 'hello ', length: 6 },
          { field: 'tags', inserted: ['x', 'y'], deleted: [], length: 2 },
        ],
      },
    ])
    task.tags.delete(0, 1)
    task.notes.insert(0, 'tmp')
    task.notes.delete(0, 3) // inserted and deleted in one transaction: not a change
    expect(toRelay()).toEqual([
      {
        type: 'record.updated',
        collection: 'tasks',
        id: task.id,
        changes: [{ field: 'tags', inserted: [], deleted: ['x'], length: 1 }],
      },
    ])
  })

  it('opens a conflict on the replica that merges concurrent writes, and resolves it', () => {
    const { ana, ben, anaToBen, benToAna } = setup(board)
    const id = ana.collection('tasks').create({ title: 'draft', done: false }).id
    anaToBen()
    ana.collection('tasks').update(id, { title: 'from ana' })
    ben.collection('tasks').update(id, { title: 'from ben' }) // later stamp: ben wins
    const events = benToAna()
    const [conflict] = ana.conflicts()
    expect(conflict?.values.map((entry) => entry.value)).toEqual(['from ben', 'from ana'])
    expect(events).toEqual([
      {
        type: 'record.updated',
        collection: 'tasks',
        id,
        changes: [{ field: 'title', old: 'from ana', new: 'from ben' }],
      },
      {
        type: 'conflict.opened',
        collection: 'tasks',
        id,
        field: 'title',
        values: conflict!.values.map(({ value, author, stamp }) => ({ value, author, stamp })),
      },
    ])
    expect(conflict!.values.map((entry) => entry.author)).toEqual(['ben', 'ana'])

    anaToBen()
    ben.resolve({ collection: 'tasks', id, field: 'title' }, 'agreed')
    expect(benToAna()).toEqual([
      {
        type: 'record.updated',
        collection: 'tasks',
        id,
        changes: [{ field: 'title', old: 'from ben', new: 'agreed' }],
      },
      {
        type: 'conflict.resolved',
        collection: 'tasks',
        id,
        field: 'title',
        value: 'agreed',
        author: 'ben',
      },
    ])
  })

  it('reports a concurrent write that loses as a conflict without a change', () => {
    const { ana, ben, anaToBen, benToAna } = setup(board)
    const id = ana.collection('tasks').create({ title: 'draft', done: false }).id
    anaToBen()
    ben.collection('tasks').update(id, { done: true })
    ana.collection('tasks').update(id, { done: false }) // later stamp: ana keeps her value
    expect(benToAna()).toEqual([
      expect.objectContaining({ type: 'conflict.opened', field: 'done' }),
    ])
  })

  it('reports a migration step to the next version, with the fields it wrote and the owner', () => {
    const { ana, toRelay } = setup(board)
    ana.migrate()
    const id = ana.collection('tasks').create({ title: 't', done: false }).id
    toRelay()
    const v2 = defineSchema({
      version: 2,
      collections: {
        ...board.collections,
        tasks: { ...board.collections.tasks, priority: field.number().nullable() },
      },
      migrations: [
        {
          version: 2,
          up: (context) => {
            for (const each of context.ids('tasks')) {
              context.set('tasks', each, 'priority', 1)
              context.set('tasks', each, '@owner', 'ops')
            }
          },
        },
      ],
    })
    const later = setup(v2)
    Y.applyUpdate(later.relay, Y.encodeStateAsUpdate(ana.doc))
    const migrated = openModel(new Y.Doc(), v2, { author: 'ana' })
    Y.applyUpdate(migrated.doc, Y.encodeStateAsUpdate(ana.doc))
    const before = Y.encodeStateVector(migrated.doc)
    migrated.migrate()
    const update = Y.encodeStateAsUpdate(migrated.doc, before)
    expect(later.applyWithEvents(later.relay, [update])).toEqual([
      { type: 'schema.migrated', from: 1, to: 2 },
      {
        type: 'record.updated',
        collection: 'tasks',
        id,
        changes: [
          { field: 'owner', old: 'ana', new: 'ops' },
          { field: 'priority', old: null, new: 1 },
        ],
      },
    ])
  })

  it('sees the same migration run concurrently on two replicas as no change', () => {
    const { ana, ben, anaToBen, benToAna } = setup(board)
    ana.migrate()
    ben.migrate() // writes the same keys with the same values
    anaToBen()
    expect(benToAna()).toEqual([])
  })

  it('ignores root types that are not collections of the schema', () => {
    const { applyWithEvents } = setup(board)
    const [source, relay] = [new Y.Doc(), new Y.Doc()]
    const stray = new Y.Map<unknown>()
    source.getMap('invoices').set('i1', stray) // a collection this schema does not have
    source.getMap('tasks').set('oops', 'not a record') // a value that is not a record map
    expect(applyWithEvents(relay, [Y.encodeStateAsUpdate(source)])).toEqual([])
    const before = Y.encodeStateVector(source)
    source.getMap('settings').set('theme', 'dark')
    source.getText('scratch').insert(0, 'notes')
    stray.set('=total|0000000001.00000|x', { v: 3 })
    source.getMap('tasks').set('oops', 'still not a record')
    expect(applyWithEvents(relay, [Y.encodeStateAsUpdate(source, before)])).toEqual([])
  })

  it('reports several updates applied in one transaction, sorted by collection, id and kind', () => {
    const { ana, ben, anaToBen, toRelay } = setup(board)
    const tasks = ana.collection('tasks')
    const [first, second] = [
      tasks.create({ title: 'one', done: false }),
      tasks.create({ title: 'two', done: false }),
    ]
    toRelay()
    anaToBen()
    ben.collection('tasks').update(second.id, { title: 'TWO' })
    tasks.update(first.id, { done: true })
    tasks.delete(second.id) // concurrent with ben's edit: both land in one transaction
    const person = ana.collection('people').create({ name: 'Ana' })
    const gone = tasks.create({ title: 'created and deleted offline', done: false })
    tasks.delete(gone.id)
    const events = toRelay()
    expect(events.map((event) => [event.type, 'id' in event ? event.id : ''])).toEqual([
      ['record.created', person.id],
      ['record.updated', first.id],
      ['record.deleted', second.id],
      ['record.updated', second.id],
      ['record.created', gone.id],
      ['record.deleted', gone.id],
    ])
    expect(events[3]).toMatchObject({ changes: [{ field: 'title', old: 'two', new: 'TWO' }] })
  })
})
