/** Domain change events: what a Yjs transaction did to the records of a document with a schema. */
import * as Y from 'yjs'
import { jsonEquals, toJsonValue, type JsonValue, type StandingValueJson } from './json-value.js'
import {
  CREATED_BY_KEY,
  DELETED_KEY,
  isDeletedRecord,
  OWNER_KEY,
  recordToJson,
  SEQUENCE_PREFIX,
  type RecordJson,
} from './record-json.js'
import { compareEntries, entryOfKey, fieldOfKey, type Entry } from './register.js'
import { sequenceChanges, type ContentChange } from './content-changes.js'
import { SCHEMA_ROOT, type AnySchema, type Fields } from './schema.js'
import { itemValue, type AnyType, mapItemBefore, mapItemNow } from './transaction-view.js'

export type { JsonValue } from './json-value.js'

/** One domain event a change produced in a document with a schema. */
export type ChangeEvent =
  /** A record appeared: `record` is its JSON (`id`, `createdBy`, `createdAt`, `owner`, fields). */
  | {
      readonly type: 'record.created'
      readonly collection: string
      readonly id: string
      readonly record: RecordJson
    }
  /** Fields of a record changed (`owner` for its owner), sorted by field name. */
  | {
      readonly type: 'record.updated'
      readonly collection: string
      readonly id: string
      readonly changes: ReadonlyArray<FieldChange>
    }
  /** A record was deleted (it stays restorable). */
  | { readonly type: 'record.deleted'; readonly collection: string; readonly id: string }
  /** A deleted record was restored. */
  | { readonly type: 'record.restored'; readonly collection: string; readonly id: string }
  /** A field now has several standing values (concurrent writes): every value, winner first. */
  | {
      readonly type: 'conflict.opened'
      readonly collection: string
      readonly id: string
      readonly field: string
      readonly values: readonly StandingValueJson[]
    }
  /** A field in conflict has one standing value again: `value`, written by `author`. */
  | {
      readonly type: 'conflict.resolved'
      readonly collection: string
      readonly id: string
      readonly field: string
      readonly value: JsonValue
      readonly author: string
    }
  /** The document's stored schema version changed (a migration ran, here or elsewhere). */
  | { readonly type: 'schema.migrated'; readonly from: number; readonly to: number }

/** A record the transaction touched, and how. */
interface Touched {
  readonly record: Y.Map<unknown>
  created: boolean
  /** Register fields with a key added or deleted (`@deleted` and `@owner` included). */
  readonly registers: Set<string>
  /** Keys of text and list fields (`~notes`) whose value or content changed. */
  readonly sequences: Set<string>
}

/** A scalar field's (or the owner's) change inside `record.updated`: its value before and after. */
export interface ValueChange {
  readonly field: string
  readonly old: JsonValue
  readonly new: JsonValue
}

export type { ContentChange } from './content-changes.js'

/** One field's change inside `record.updated`. */
export type FieldChange = ValueChange | ContentChange

/** A register's standing entries before and after the transaction, winner first. */
interface Standing {
  readonly before: Entry[]
  readonly after: Entry[]
}

/**
 * The domain events `transaction` produced in a document with `schema`. Call it from an
 * `afterTransaction` handler: Yjs emits that before it garbage-collects the transaction's
 * deletions, which this reads to know what was there before. Only the types the transaction
 * changed (and their parents) are read, never the whole document. Root types that are not
 * collections of `schema` are ignored.
 *
 * Events come sorted: `schema.migrated` first, then by collection, record id and kind (created,
 * deleted or restored, updated, conflicts opened, conflicts resolved, each by field). A record
 * created in the transaction yields only `record.created` (and `record.deleted` when it arrived
 * already deleted). Conflicts are reported for every register field, including `@deleted`,
 * `@owner` and fields `schema` does not know, as `model.conflicts()` lists them.
 */
export const changeEventsOf = (transaction: Y.Transaction, schema: AnySchema): ChangeEvent[] => {
  const events: ChangeEvent[] = []
  const migrated = migrationOf(transaction)
  if (migrated !== null) events.push(migrated)
  const touched = touchedRecords(transaction, schema)
  for (const collection of [...touched.keys()].sort()) {
    const records = touched.get(collection) as Map<string, Touched>
    const fields = schema.collections[collection] as Fields
    for (const id of [...records.keys()].sort()) {
      const entry = records.get(id) as Touched
      for (const event of recordEvents(transaction, { collection, id }, entry, fields))
        events.push(event)
    }
  }
  return events
}

/** `schema.migrated` when the `version` register of the `weft:schema` root changed. */
const migrationOf = (transaction: Y.Transaction): ChangeEvent | null => {
  const meta = transaction.doc.share.get(SCHEMA_ROOT)
  if (meta === undefined || !transaction.changed.has(meta)) return null
  const version = registersOf(transaction, meta, new Set(['version'])).get('version')
  const from = version?.before[0]?.value ?? 0
  const to = version?.after[0]?.value
  if (typeof from !== 'number' || typeof to !== 'number' || from === to) return null
  return { type: 'schema.migrated', from, to }
}

/** The records of schema collections that `transaction` changed, by collection and id. */
const touchedRecords = (
  transaction: Y.Transaction,
  schema: AnySchema,
): Map<string, Map<string, Touched>> => {
  // Root types by identity: a relay's document may hold them untyped (no getMap ever called).
  const roots = new Map<AnyType, string>()
  for (const name of Object.keys(schema.collections)) {
    const root = transaction.doc.share.get(name)
    if (root !== undefined) roots.set(root, name)
  }
  const touched = new Map<string, Map<string, Touched>>()
  const touch = (collection: string, id: string, record: Y.Map<unknown>): Touched => {
    const records = touched.get(collection) ?? new Map<string, Touched>()
    touched.set(collection, records)
    const found = records.get(id) ?? {
      record,
      created: false,
      registers: new Set<string>(),
      sequences: new Set<string>(),
    }
    records.set(id, found)
    return found
  }
  for (const [type, keys] of transaction.changed) {
    const item = type._item
    const collection = item === null ? roots.get(type) : undefined
    if (collection !== undefined) {
      // A collection's keys are record ids: a new record map is a created record.
      for (const id of keys) {
        const record = id === null ? null : createdRecord(transaction, type._map.get(id))
        if (record !== null) touch(collection, id as string, record).created = true
      }
      continue
    }
    if (item === null || !(item.parent instanceof Y.AbstractType)) continue
    const parent = item.parent
    const inRecord = parent._item !== null
    const location = locate(roots, inRecord ? parent : type)
    if (location === null) continue
    const entry = touch(location.collection, location.id, location.record)
    // A text or list changed inside a record, or keys of the record map itself.
    for (const key of inRecord ? [item.parentSub] : keys) {
      const field = key === null ? null : fieldOfKey(key)
      if (field !== null) entry.registers.add(field)
      else if (key?.startsWith(SEQUENCE_PREFIX) === true) entry.sequences.add(key)
    }
  }
  return touched
}

/** The record map a root collection's key gained in the transaction, or `null`. */
const createdRecord = (
  transaction: Y.Transaction,
  newest: Y.Item | undefined,
): Y.Map<unknown> | null => {
  const now = mapItemNow(newest)
  if (now === null || mapItemBefore(transaction, newest) === now) return null
  const value = itemValue(now)
  return value instanceof Y.Map ? (value as Y.Map<unknown>) : null
}

/** The collection and id of `record` when it is a current record of a schema collection. */
const locate = (
  roots: ReadonlyMap<AnyType, string>,
  record: AnyType,
): { collection: string; id: string; record: Y.Map<unknown> } | null => {
  const item = record._item
  if (!(record instanceof Y.Map) || item === null || item.deleted || item.parentSub === null) {
    return null
  }
  const root = item.parent
  const collection = root instanceof Y.AbstractType ? roots.get(root) : undefined
  return collection === undefined ? null : { collection, id: item.parentSub, record }
}

/** Standing entries of each of `fields` in `map`, before and after the transaction. */
const registersOf = (
  transaction: Y.Transaction,
  map: AnyType,
  fields: ReadonlySet<string>,
): Map<string, Standing> => {
  const result = new Map<string, Standing>()
  for (const [key, newest] of map._map) {
    const field = fieldOfKey(key)
    if (field === null || !fields.has(field)) continue
    const slot = result.get(field) ?? { before: [], after: [] }
    result.set(field, slot)
    const [before, after] = [mapItemBefore(transaction, newest), mapItemNow(newest)]
    const old = before === null ? null : entryOfKey(key, itemValue(before))
    const current = after === null ? null : entryOfKey(key, itemValue(after))
    if (old !== null) slot.before.push(old)
    if (current !== null) slot.after.push(current)
  }
  for (const slot of result.values()) {
    slot.before.sort(compareEntries)
    slot.after.sort(compareEntries)
  }
  return result
}

/** The events of one touched record, in order. */
const recordEvents = (
  transaction: Y.Transaction,
  where: { readonly collection: string; readonly id: string },
  touched: Touched,
  fields: Fields,
): ChangeEvent[] => {
  const { record } = touched
  if (touched.created) {
    const json = recordToJson(where.id, record, fields)
    const created: ChangeEvent = { type: 'record.created', ...where, record: json }
    // Created and deleted before it reached here (offline): say so, or it would read as alive.
    return isDeletedRecord(record) ? [created, { type: 'record.deleted', ...where }] : [created]
  }
  const registers = registersOf(transaction, record, touched.registers)
  const fieldsInOrder = [...registers.keys()].sort()
  const lifecycle: ChangeEvent[] = []
  const changes: FieldChange[] = []
  for (const field of fieldsInOrder) {
    const { before, after } = registers.get(field) as Standing
    if (field === DELETED_KEY) {
      const [was, is] = [before[0]?.value === true, after[0]?.value === true]
      if (was !== is) lifecycle.push({ type: is ? 'record.deleted' : 'record.restored', ...where })
    } else if (field === OWNER_KEY || fields[field]?.kind === 'scalar') {
      // No owner register: the creator owns the record (as reads say).
      const fallback = field === OWNER_KEY ? record.get(CREATED_BY_KEY) : null
      const old = toJsonValue(before[0]?.value ?? fallback)
      const now = toJsonValue(after[0]?.value ?? fallback)
      const name = field === OWNER_KEY ? 'owner' : field
      if (!jsonEquals(old, now)) changes.push({ field: name, old, new: now })
    }
  }
  for (const change of sequenceChanges(transaction, record, touched.sequences, fields))
    changes.push(change)
  changes.sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0))
  const conflicts = conflictEvents(where, fieldsInOrder, registers)
  const updated: ChangeEvent[] =
    changes.length > 0 ? [{ type: 'record.updated', ...where, changes }] : []
  return [...lifecycle, ...updated, ...conflicts]
}

/** `conflict.opened` then `conflict.resolved` events, each in `fields` order. */
const conflictEvents = (
  where: { readonly collection: string; readonly id: string },
  fields: readonly string[],
  registers: ReadonlyMap<string, Standing>,
): ChangeEvent[] => {
  const opened: ChangeEvent[] = []
  const resolved: ChangeEvent[] = []
  for (const field of fields) {
    const { before, after } = registers.get(field) as Standing
    const [standing] = after
    if (before.length <= 1 && after.length >= 2) {
      const values = after.map(({ value, author, stamp }) => ({
        value: toJsonValue(value),
        author,
        stamp,
      }))
      opened.push({ type: 'conflict.opened', ...where, field, values })
    } else if (before.length >= 2 && after.length === 1 && standing !== undefined) {
      const { value, author } = standing
      resolved.push({
        type: 'conflict.resolved',
        ...where,
        field,
        value: toJsonValue(value),
        author,
      })
    }
  }
  return [...opened, ...resolved]
}
