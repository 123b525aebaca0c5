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
import { SCHEMA_ROOT, type AnySchema, type Fields } from './schema.js'
import {
  existedBefore,
  itemValue,
  type AnyType,
  mapItemBefore,
  mapItemNow,
  mapValueBefore,
} from './transaction-view.js'

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

/**
 * A text or list field's change inside `record.updated`: what the transaction inserted and
 * deleted (a text's characters, a list's items, each in the order they were written, without
 * their positions) and the field's length after it. It costs what the change costs, never the
 * field's whole content: read the record for that.
 */
export interface ContentChange {
  readonly field: string
  readonly inserted: string | JsonValue[]
  readonly deleted: string | JsonValue[]
  readonly length: number
}

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

/**
 * Changes of the text and list fields behind `keys`: the content the transaction inserted into
 * them and deleted from them, found from its new structs and its deletions (never by reading a
 * field whole, unless the field itself was replaced). Inserted and deleted again in the same
 * transaction counts as neither; a field the transaction neither inserted into nor deleted from
 * reports nothing.
 */
const sequenceChanges = (
  transaction: Y.Transaction,
  record: Y.Map<unknown>,
  keys: ReadonlySet<string>,
  fields: Fields,
): FieldChange[] => {
  const changes: FieldChange[] = []
  for (const key of keys) {
    const field = key.slice(SEQUENCE_PREFIX.length)
    const kind = fields[field]?.kind
    if (kind !== 'text' && kind !== 'list') continue
    const newest = record._map.get(key)
    const now = mapItemNow(newest)
    const value = now === null ? null : itemValue(now)
    const content = value instanceof Y.Text || value instanceof Y.Array ? value : null
    if (content === null || mapItemBefore(transaction, newest) !== now) {
      // The field itself was set or removed: its whole content before and after.
      const old = mapValueBefore(transaction, newest)
      const json = toJsonValue(content)
      if (!jsonEquals(old, json)) changes.push(replaced(field, kind, old, json))
      continue
    }
    const change = contentChange(transaction, content, kind)
    if (change.insertedCount > 0 || change.deletedCount > 0) {
      const { inserted, deleted } = change
      changes.push({ field, inserted, deleted, length: content.length })
    }
  }
  return changes
}

/** A field set or removed: everything it held went out, everything it holds came in. */
const replaced = (
  field: string,
  kind: 'text' | 'list',
  old: JsonValue,
  now: JsonValue,
): ContentChange => {
  const pieces = (json: JsonValue): string | JsonValue[] =>
    kind === 'text' ? (typeof json === 'string' ? json : '') : Array.isArray(json) ? json : []
  const inserted = pieces(now)
  return { field, inserted, deleted: pieces(old), length: inserted.length }
}

/** What `transaction` inserted into and deleted from `type`, from its new structs and deletions. */
const contentChange = (
  transaction: Y.Transaction,
  type: Y.Text | Y.Array<unknown>,
  kind: 'text' | 'list',
): {
  inserted: string | JsonValue[]
  deleted: string | JsonValue[]
  insertedCount: number
  deletedCount: number
} => {
  const text = kind === 'text'
  let insertedText = ''
  let deletedText = ''
  const insertedItems: JsonValue[] = []
  const deletedItems: JsonValue[] = []
  let insertedCount = 0
  let deletedCount = 0
  const take = (item: Y.Item, into: 'in' | 'out'): void => {
    if (!item.countable) return
    if (text) {
      if (!(item.content instanceof Y.ContentString)) return
      if (into === 'in') insertedText += item.content.str
      else deletedText += item.content.str
    } else {
      const target = into === 'in' ? insertedItems : deletedItems
      for (const each of item.content.getContent()) target.push(toJsonValue(each))
    }
    if (into === 'in') insertedCount += item.length
    else deletedCount += item.length
  }
  const { store } = transaction.doc
  for (const [client, after] of transaction.afterState) {
    const before = transaction.beforeState.get(client) ?? 0
    if (after <= before) continue
    const structs = store.clients.get(client) ?? []
    for (let index = Y.findIndexSS(structs, before); index < structs.length; index++) {
      const struct = structs[index]
      if (struct instanceof Y.Item && struct.parent === type && !struct.deleted) take(struct, 'in')
    }
  }
  Y.iterateDeletedStructs(transaction, transaction.deleteSet, (struct) => {
    if (struct instanceof Y.Item && struct.parent === type && existedBefore(transaction, struct))
      take(struct, 'out')
  })
  return {
    inserted: text ? insertedText : insertedItems,
    deleted: text ? deletedText : deletedItems,
    insertedCount,
    deletedCount,
  }
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
