/** useConflicts: a model's open conflicts, re-rendering as they appear and resolve. */
import type { Conflict, Fields, Model } from '@weft/doc'
import { useCallback, useMemo, useSyncExternalStore } from 'react'
import { checkModel } from './check-model.js'
import { conflictsStore } from './conflicts-store.js'
import { invalid } from './invalid.js'

/** Which conflicts {@link useConflicts} lists: all, or those of one collection, record or field. */
export interface ConflictFilter {
  readonly collection?: string
  readonly id?: string
  readonly field?: string
}

/**
 * The open conflicts of `model` (fields where concurrent writes left several standing values,
 * winner first; see `model.conflicts()`), optionally filtered. The component re-renders when a
 * conflict appears, gains a value or is resolved (`model.resolve(conflict, value)`), locally or on
 * another device, and not on other edits. Throws `INVALID_ARGUMENT` for a bad model or filter.
 */
export const useConflicts = <C extends Readonly<Record<string, Fields>>>(
  model: Model<C>,
  filter: ConflictFilter = {},
): readonly Conflict[] => {
  const store = conflictsStore(checkModel('useConflicts', model))
  if (typeof filter !== 'object' || filter === null) {
    throw invalid('useConflicts takes a filter { collection?, id?, field? } or nothing')
  }
  const subscribe = useCallback((onChange: () => void) => store.subscribe(onChange), [store])
  const getSnapshot = useCallback(() => store.current(), [store])
  const all = useSyncExternalStore(subscribe, getSnapshot, getSnapshot)
  const { collection, id, field } = filter
  return useMemo(
    () =>
      collection === undefined && id === undefined && field === undefined
        ? all
        : all.filter(
            (conflict) =>
              (collection === undefined || conflict.collection === collection) &&
              (id === undefined || conflict.id === id) &&
              (field === undefined || conflict.field === field),
          ),
    [all, collection, id, field],
  )
}
