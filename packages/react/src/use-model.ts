/** useModel: a document's @weft/doc model, opened again when the handle rebuilds its document. */
import type { DocHandle } from '@weft/client'
import { openModel, type Fields, type Model, type ModelOptions, type Schema } from '@weft/doc'
import { useCallback, useMemo, useRef, useSyncExternalStore } from 'react'
import { checkHandle } from './check-handle.js'

/**
 * The model of `handle.doc` for `schema` (see `openModel` in @weft/doc), the same object across
 * renders. After the relay refuses an edit the handle rebuilds its document (`reset`); the model
 * is then opened on the new one and the component re-renders, so records and conflicts read
 * through it follow. It does not migrate: call `model.migrate()` once the document has synced
 * (and for a new document). A new model is opened when the document, the schema object or the
 * author changes (define the schema once, outside components); `clock` and `newId` are taken when
 * it is opened. Throws `INVALID_ARGUMENT` for a bad handle or options (from `openModel`:
 * options.author must be a non-empty string).
 */
export const useModel = <C extends Readonly<Record<string, Fields>>>(
  handle: DocHandle,
  schema: Schema<C>,
  options: ModelOptions,
): Model<C> => {
  checkHandle('useModel', handle)
  const subscribe = useCallback(
    (onChange: () => void) => {
      handle.on('reset', onChange)
      return () => handle.off('reset', onChange)
    },
    [handle],
  )
  const getDoc = useCallback(() => handle.doc, [handle])
  const doc = useSyncExternalStore(subscribe, getDoc, getDoc)
  const author = options?.author
  // Taken when a model is opened: an inline `newId` must not open a new model on every render.
  const extras = useRef({ clock: options?.clock, newId: options?.newId })
  extras.current = { clock: options?.clock, newId: options?.newId }
  return useMemo(() => {
    const { clock, newId } = extras.current
    return openModel(doc, schema, {
      author,
      ...(clock === undefined ? {} : { clock }),
      ...(newId === undefined ? {} : { newId }),
    })
  }, [doc, schema, author])
}
