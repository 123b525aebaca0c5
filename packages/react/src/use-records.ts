/** useRecords and useRecord: a collection's records, re-rendering only when what they show changes. */
import type { Fields, Model, RecordOf } from '@weft/doc'
import { useCallback, useSyncExternalStore } from 'react'
import { checkModel } from './check-model.js'
import { collectionStore } from './collection-store.js'
import { invalid } from './invalid.js'

/**
 * Every record of `collection` not deleted, oldest first (as `collection.list()`): the same
 * array until a record of that collection changes, locally or from another device, so the
 * component re-renders only then. Throws `INVALID_ARGUMENT` for a bad model or a collection the
 * schema does not have.
 */
export const useRecords = <C extends Readonly<Record<string, Fields>>, K extends keyof C & string>(
  model: Model<C>,
  collection: K,
): ReadonlyArray<RecordOf<C[K]>> => {
  const store = collectionStore<C[K]>(checkModel('useRecords', model), collection)
  const subscribe = useCallback((onChange: () => void) => store.subscribeList(onChange), [store])
  const getSnapshot = useCallback(() => store.list(), [store])
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot)
}

/**
 * The record `id` of `collection` (`null` while it is missing or deleted): the same object until
 * that record changes, so the component does not re-render when other records do. A record's
 * text and list fields are live `Y.Text` / `Y.Array` objects; an edit of them counts as a change
 * of the record. Throws `INVALID_ARGUMENT` for a bad model, a collection the schema does not
 * have, or an id that is not a string.
 */
export const useRecord = <C extends Readonly<Record<string, Fields>>, K extends keyof C & string>(
  model: Model<C>,
  collection: K,
  id: string,
): RecordOf<C[K]> | null => {
  const store = collectionStore<C[K]>(checkModel('useRecord', model), collection)
  if (typeof id !== 'string')
    throw invalid(`useRecord needs a record id (a string) of ${collection}`)
  const subscribe = useCallback(
    (onChange: () => void) => store.subscribeRecord(id, onChange),
    [store, id],
  )
  const getSnapshot = useCallback(() => store.get(id), [store, id])
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot)
}
