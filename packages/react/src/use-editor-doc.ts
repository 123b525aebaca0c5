/** useEditorDoc: the document and awareness an editor binds to, followed across a refused edit. */
import { WeftProvider } from '@weft/client'
import { useCallback, useRef, useSyncExternalStore } from 'react'
import type * as Y from 'yjs'
import { invalid } from './invalid.js'

/** What an editor binding is built on. */
export interface EditorDoc {
  readonly doc: Y.Doc
  readonly awareness: WeftProvider['awareness']
}

/**
 * `provider.doc` and `provider.awareness`, the same object until they change: after the relay
 * refuses an edit the document is rebuilt (`reset`) and the component re-renders with the new
 * ones, so an editor made from them (Tiptap's `useEditor(…, [doc])`, for instance) is made again
 * on the rebuilt document — React's one-line counterpart of `provider.bind`. Throws
 * `INVALID_ARGUMENT` when `provider` is not a `WeftProvider`.
 */
export const useEditorDoc = (provider: WeftProvider): EditorDoc => {
  if (!(provider instanceof WeftProvider)) {
    throw invalid('useEditorDoc needs a WeftProvider: pass new WeftProvider(client, name, doc)')
  }
  const subscribe = useCallback(
    (onChange: () => void) => {
      provider.on('reset', onChange)
      return () => provider.off('reset', onChange)
    },
    [provider],
  )
  const last = useRef<EditorDoc | null>(null)
  const snapshot = useCallback((): EditorDoc => {
    const { doc, awareness } = provider
    const cached = last.current
    if (cached?.doc === doc && cached.awareness === awareness) return cached
    last.current = { doc, awareness }
    return last.current
  }, [provider])
  return useSyncExternalStore(subscribe, snapshot, snapshot)
}
