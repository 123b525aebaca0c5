/**
 * The edits of the convergence simulation, and what they promise: every edit is remembered with
 * the Yjs clock it reached, and the append-only parts (array items, `seen` keys, model records)
 * must be there, exactly once, at the end.
 */
import { defineSchema, field, HybridClock, openModel, type Model } from '@weft/doc'
import * as Y from 'yjs'

/** The schema the simulated clients share (document-model records). */
export const simSchema = defineSchema({
  version: 1,
  collections: {
    tasks: {
      title: field.string(),
      status: field.enum(['todo', 'doing', 'done']),
      rank: field.number(),
    },
  },
})

export type SimModel = Model<(typeof simSchema)['collections']>

/** One edit made by one simulated client. */
export interface EditRecord {
  readonly actor: string
  readonly kind: EditKind
  /** The Yjs client id that made it and the clock it reached: the final state must cover it. */
  readonly clientId: number
  readonly clock: number
  /** Append-only marks that must be in the final document exactly once. */
  readonly item?: string
  readonly seenKey?: string
  readonly recordId?: string
  /** Its client learned it is durable on the relay (Weft clients only). */
  acknowledged: boolean
}

export const EDIT_KINDS = [
  'text-insert',
  'text-delete',
  'map-set',
  'map-delete',
  'array-insert',
  'seen-set',
  'record-create',
  'record-update',
] as const
export type EditKind = (typeof EDIT_KINDS)[number]

/** A model bound to a document with a clock and ids that depend only on the simulation. */
export const openSimModel = (doc: Y.Doc, actor: string, now: () => number): SimModel => {
  let nextId = 0
  return openModel(doc, simSchema, {
    author: actor,
    clock: new HybridClock(now),
    newId: () => `${actor}.${doc.clientID}.${nextId++}`,
  })
}

/**
 * Makes one random edit of a random kind on `doc`; returns its record, or `null` when the kind
 * had nothing to act on (deleting from an empty text, updating with no records).
 */
export const randomEdit = (
  doc: Y.Doc,
  model: SimModel,
  actor: string,
  serial: number,
  random: () => number,
): EditRecord | null => {
  const pick = (n: number): number => Math.floor(random() * n)
  const kind = EDIT_KINDS[pick(EDIT_KINDS.length)] as EditKind
  const mark = `${actor}:${serial}`
  const text = doc.getText('text')
  const map = doc.getMap<string>('map')
  const items = doc.getArray<string>('items')
  const record = (extra: Partial<EditRecord>): EditRecord => ({
    actor,
    kind,
    clientId: doc.clientID,
    clock: Y.getState(doc.store, doc.clientID),
    acknowledged: false,
    ...extra,
  })
  switch (kind) {
    case 'text-insert':
      text.insert(pick(text.length + 1), `[${mark}]`)
      return record({})
    case 'text-delete': {
      if (text.length === 0) return null
      const at = pick(text.length)
      text.delete(at, Math.min(text.length - at, 1 + pick(6)))
      return record({})
    }
    case 'map-set':
      map.set(`k${pick(6)}`, mark)
      return record({})
    case 'map-delete': {
      const key = `k${pick(6)}`
      if (!map.has(key)) return null
      map.delete(key)
      return record({})
    }
    case 'array-insert':
      items.insert(pick(items.length + 1), [mark])
      return record({ item: mark })
    case 'seen-set':
      doc.getMap<number>('seen').set(mark, serial)
      return record({ seenKey: mark })
    case 'record-create': {
      const task = model.collection('tasks').create({ title: mark, status: 'todo', rank: serial })
      return record({ recordId: task.id })
    }
    case 'record-update': {
      const tasks = model.collection('tasks').list()
      const task = tasks[pick(tasks.length)]
      if (task === undefined) return null
      const statuses = ['todo', 'doing', 'done'] as const
      model.collection('tasks').update(task.id, {
        status: statuses[pick(3)] as (typeof statuses)[number],
        title: mark,
      })
      return record({})
    }
  }
}

/** What is wrong with `doc` against the edits made: missing or doubled marks, uncovered clocks. */
export const checkEdits = (
  doc: Y.Doc,
  model: SimModel,
  edits: readonly EditRecord[],
): { missing: string[]; lostAcknowledged: number } => {
  const missing: string[] = []
  let lostAcknowledged = 0
  const vector = Y.decodeStateVector(Y.encodeStateVector(doc))
  const items = new Map<string, number>()
  for (const item of doc.getArray<string>('items').toArray())
    items.set(item, (items.get(item) ?? 0) + 1)
  const seen = doc.getMap<number>('seen')
  for (const edit of edits) {
    const problems: string[] = []
    if ((vector.get(edit.clientId) ?? 0) < edit.clock)
      problems.push(`clock ${edit.clientId}@${edit.clock} not covered`)
    if (edit.item !== undefined && items.get(edit.item) !== 1)
      problems.push(`item ${edit.item} present ${items.get(edit.item) ?? 0} times`)
    if (edit.seenKey !== undefined && !seen.has(edit.seenKey))
      problems.push(`seen key ${edit.seenKey} missing`)
    if (edit.recordId !== undefined && model.collection('tasks').get(edit.recordId) === null)
      problems.push(`record ${edit.recordId} missing`)
    if (problems.length === 0) continue
    if (edit.acknowledged) lostAcknowledged += 1
    missing.push(
      `${edit.actor} ${edit.kind}${edit.acknowledged ? ' (acknowledged)' : ''}: ${problems.join(', ')}`,
    )
  }
  return { missing, lostAcknowledged }
}
