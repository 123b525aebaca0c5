/**
 * Reading a Yjs transaction's before and after: which items existed, which it deleted, and what a
 * map key or a text or list held before it. Valid in `afterTransaction`, which Yjs emits before it
 * garbage-collects the transaction's deletions (so deleted items still hold their content).
 */
import * as Y from 'yjs'
import { toJsonValue, type JsonValue } from './json-value.js'

/** Any shared type (`any`: Yjs types are invariant in their event type, unused here). */
export type AnyType = Y.AbstractType<any>

/** Whether `item` existed before `transaction` (its clock is below the state it started from). */
export const existedBefore = (transaction: Y.Transaction, item: Y.Item): boolean =>
  item.id.clock < (transaction.beforeState.get(item.id.client) ?? 0)

/** Whether `item` was in the document, not deleted, when `transaction` started. */
export const stoodBefore = (transaction: Y.Transaction, item: Y.Item): boolean =>
  existedBefore(transaction, item) && (!item.deleted || Y.isDeleted(transaction.deleteSet, item.id))

/**
 * The item a map key held when `transaction` started, or `null`. `newest` is the key's item in
 * the map's `_map` (the newest, possibly deleted); older items of the key are linked by `left`.
 */
export const mapItemBefore = (
  transaction: Y.Transaction,
  newest: Y.Item | undefined,
): Y.Item | null => {
  for (let item = newest ?? null; item !== null; item = item.left) {
    if (stoodBefore(transaction, item)) return item
  }
  return null
}

/** The item a map key holds now, or `null` (the newest item is the value unless deleted). */
export const mapItemNow = (newest: Y.Item | undefined): Y.Item | null =>
  newest !== undefined && !newest.deleted ? newest : null

/** The value a map item holds (what `Y.Map.get` returns for its key). */
export const itemValue = (item: Y.Item): unknown => {
  const content = item.content.getContent()
  return content[content.length - 1]
}

/**
 * The JSON a map key held when `transaction` started (`null` when it held nothing): a text's
 * string or a list's items as they were then, any other value as JSON.
 */
export const mapValueBefore = (
  transaction: Y.Transaction,
  newest: Y.Item | undefined,
): JsonValue => {
  const item = mapItemBefore(transaction, newest)
  if (item === null) return null
  const value = itemValue(item)
  if (value instanceof Y.Text) return textBefore(transaction, value)
  if (value instanceof Y.Array) return arrayBefore(transaction, value)
  return toJsonValue(value)
}

/** Items of a sequence type that stood before `transaction`, left to right. */
function* itemsBefore(transaction: Y.Transaction, type: AnyType): Generator<Y.Item> {
  for (let item = type._start; item !== null; item = item.right) {
    if (stoodBefore(transaction, item)) yield item
  }
}

/** A text's string when `transaction` started (formatting and embeds are not part of it). */
const textBefore = (transaction: Y.Transaction, text: Y.Text): string => {
  let string = ''
  for (const item of itemsBefore(transaction, text)) {
    if (item.content instanceof Y.ContentString) string += item.content.str
  }
  return string
}

/** A list's items, as JSON, when `transaction` started. */
const arrayBefore = (transaction: Y.Transaction, array: Y.Array<unknown>): JsonValue[] => {
  const items: JsonValue[] = []
  for (const item of itemsBefore(transaction, array)) {
    if (item.countable) for (const each of item.content.getContent()) items.push(toJsonValue(each))
  }
  return items
}
