/**
 * Content changes: what a Yjs transaction inserted into and deleted from the text and list
 * fields of a record, for `record.updated` (see `changeEventsOf`).
 */
import * as Y from 'yjs'
import { jsonEquals, toJsonValue, type JsonValue } from './json-value.js'
import { SEQUENCE_PREFIX } from './record-json.js'
import type { Fields } from './schema.js'
import {
  existedBefore,
  itemValue,
  mapItemBefore,
  mapItemNow,
  mapValueBefore,
} from './transaction-view.js'

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

/**
 * Changes of the text and list fields behind `keys`: the content the transaction inserted into
 * them and deleted from them, found from its new structs and its deletions (never by reading a
 * field whole, unless the field itself was replaced). Inserted and deleted again in the same
 * transaction counts as neither; a field the transaction neither inserted into nor deleted from
 * reports nothing.
 */
export const sequenceChanges = (
  transaction: Y.Transaction,
  record: Y.Map<unknown>,
  keys: ReadonlySet<string>,
  fields: Fields,
): ContentChange[] => {
  const changes: ContentChange[] = []
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
