import { chooseSeed } from '@weft/testkit'
import fc from 'fast-check'
import { describe, it } from 'vitest'
import * as Y from 'yjs'
import { HybridClock } from '../src/hlc.js'
import { openModel, type Model } from '../src/model.js'
import { defineSchema, field } from '../src/schema.js'

const schema = defineSchema({
  version: 1,
  collections: {
    tasks: {
      title: field.string(),
      done: field.boolean(),
      estimate: field.number().nullable(),
      notes: field.text(),
    },
  },
})

type Op =
  | { kind: 'create'; replica: number; title: string }
  | {
      kind: 'update'
      replica: number
      pick: number
      title: string
      done: boolean
      estimate: number | null
    }
  | { kind: 'delete' | 'restore'; replica: number; pick: number }
  | { kind: 'resolve'; replica: number; pick: number; title: string }
  | { kind: 'type'; replica: number; pick: number; text: string }
  | { kind: 'deliver'; from: number; to: number; reverse: boolean; duplicate: boolean }

const REPLICAS = 3

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('create' as const),
    replica: fc.nat(REPLICAS - 1),
    title: fc.string({ maxLength: 4 }),
  }),
  fc.record({
    kind: fc.constant('update' as const),
    replica: fc.nat(REPLICAS - 1),
    pick: fc.nat(),
    title: fc.string({ maxLength: 4 }),
    done: fc.boolean(),
    estimate: fc.option(fc.integer({ min: 0, max: 9 }), { nil: null }),
  }),
  fc.record({
    kind: fc.constantFrom('delete' as const, 'restore' as const),
    replica: fc.nat(REPLICAS - 1),
    pick: fc.nat(),
  }),
  fc.record({
    kind: fc.constant('resolve' as const),
    replica: fc.nat(REPLICAS - 1),
    pick: fc.nat(),
    title: fc.string({ maxLength: 4 }),
  }),
  fc.record({
    kind: fc.constant('type' as const),
    replica: fc.nat(REPLICAS - 1),
    pick: fc.nat(),
    text: fc.string({ minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    kind: fc.constant('deliver' as const),
    from: fc.nat(REPLICAS - 1),
    to: fc.nat(REPLICAS - 1),
    reverse: fc.boolean(),
    duplicate: fc.boolean(),
  }),
)

/** Runs `ops` on fresh replicas whose clocks are skewed, then delivers everything everywhere. */
const run = (
  ops: readonly Op[],
  skews: readonly number[],
): Array<Model<typeof schema.collections>> => {
  const docs = Array.from({ length: REPLICAS }, () => new Y.Doc())
  // Every update each replica made, in order; `delivered[from][to]` counts what `to` got.
  const outboxes: Uint8Array[][] = docs.map(() => [])
  docs.forEach((doc, index) =>
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== 'remote') outboxes[index]!.push(update)
    }),
  )
  let counter = 0
  const models = docs.map((doc, index) =>
    openModel(doc, schema, {
      author: `author-${index}`,
      clock: new HybridClock(() => 1_700_000_000_000 + (skews[index] ?? 0) + counter),
      newId: () => `r${index}-${++counter}`,
    }),
  )
  const delivered = docs.map(() => docs.map(() => 0))
  const deliver = (from: number, to: number, reverse: boolean, duplicate: boolean): void => {
    if (from === to) return
    const pending = outboxes[from]!.slice(delivered[from]![to]!)
    delivered[from]![to] = outboxes[from]!.length
    const batch = reverse ? [...pending].reverse() : pending
    for (const update of duplicate ? [...batch, ...batch] : batch)
      Y.applyUpdate(docs[to]!, update, 'remote')
  }
  const pickId = (
    model: Model<typeof schema.collections>,
    pick: number,
    alive: boolean,
  ): string | null => {
    const root = model.doc.getMap('tasks')
    const ids = [...root.keys()]
      .sort()
      .filter((id) => !alive || !model.collection('tasks').isDeleted(id))
    return ids.length === 0 ? null : (ids[pick % ids.length] as string)
  }
  for (const op of ops) {
    counter += 1
    if (op.kind === 'deliver') {
      deliver(op.from, op.to, op.reverse, op.duplicate)
      continue
    }
    const model = models[op.replica]!
    const tasks = model.collection('tasks')
    if (op.kind === 'create') {
      tasks.create({ title: op.title, done: false })
      continue
    }
    const id = pickId(model, op.pick, op.kind === 'update' || op.kind === 'type')
    if (id === null) continue
    if (op.kind === 'update')
      tasks.update(id, { title: op.title, done: op.done, estimate: op.estimate })
    else if (op.kind === 'delete') tasks.delete(id)
    else if (op.kind === 'restore') tasks.restore(id)
    else if (op.kind === 'resolve')
      model.resolve({ collection: 'tasks', id, field: 'title' }, op.title)
    else if (op.kind === 'type') {
      const notes = tasks.get(id)?.notes
      notes?.insert(Math.min(op.pick % 4, notes.length), op.text)
    }
  }
  // Heal: everyone gets everything, in every order.
  for (let round = 0; round < 2; round++) {
    for (let from = 0; from < REPLICAS; from++) {
      for (let to = 0; to < REPLICAS; to++) deliver(from, to, round === 1, round === 1)
    }
  }
  return models
}

/** What must be identical on every replica: records as read, deletions and the journal. */
const view = (model: Model<typeof schema.collections>): unknown => {
  const tasks = model.collection('tasks')
  const ids = [...model.doc.getMap('tasks').keys()].sort()
  return {
    records: ids.map((id) => {
      const record = tasks.get(id)
      return {
        id,
        deleted: tasks.isDeleted(id),
        record: record && { ...record, notes: record.notes.toString() },
      }
    }),
    conflicts: model.conflicts(),
  }
}

describe('the document model under random concurrent edits', () => {
  it('converges: identical records, winners and conflict journals on every replica', () => {
    const seed = chooseSeed('model convergence')
    fc.assert(
      fc.property(
        fc.array(opArbitrary, { minLength: 20, maxLength: 80, size: 'max' }),
        fc.array(fc.integer({ min: -3 * 3_600_000, max: 3 * 3_600_000 }), {
          minLength: REPLICAS,
          maxLength: REPLICAS,
        }),
        (ops, skews) => {
          const models = run(ops, skews)
          const first = JSON.stringify(view(models[0]!))
          for (const model of models.slice(1)) {
            if (JSON.stringify(view(model)) !== first) return false
          }
          return true
        },
      ),
      { seed, numRuns: 200 },
    )
  })
})
