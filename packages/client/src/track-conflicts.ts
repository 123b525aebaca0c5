/** trackConflicts: counts the conflicts other writers open and resolve in a document with a schema. */
import { changeEventsOf, type AnySchema } from '@weft/doc'
import { WeftError } from '@weft/protocol'
import type * as Y from 'yjs'
import type { ClientMetrics } from './client-metrics.js'
import type { DocHandle } from './doc-handle.js'

/** The metrics of the client each open handle belongs to (set by `WeftClient.open`). */
export const metricsOfHandle = new WeakMap<object, ClientMetrics>()

const invalid = (message: string): WeftError => new WeftError('INVALID_ARGUMENT', message)

/**
 * Counts, in its client's `onMetric` (`weft.client.conflicts`, by `collection` and `change`) and
 * `client.metrics()`, each conflict that changes arriving for `handle` open or resolve: edits of
 * other writers, from the relay or (in a tab group, offline) another tab, read as
 * `changeEventsOf` reads them with `schema`. Conflicts this client's own edits open or resolve are
 * not counted. It follows `handle.doc` across `reset`. Returns a function that stops counting.
 * Throws `INVALID_ARGUMENT` for a handle no open client holds or a value that is not a schema.
 */
export const trackConflicts = (handle: DocHandle, schema: AnySchema): (() => void) => {
  const metrics = metricsOfHandle.get(handle)
  if (metrics === undefined)
    throw invalid('trackConflicts needs a DocHandle from WeftClient.open (and not closed)')
  if (
    typeof schema !== 'object' ||
    schema === null ||
    typeof schema.collections !== 'object' ||
    schema.collections === null
  ) {
    throw invalid('trackConflicts needs a schema from defineSchema (with collections)')
  }
  const observe = (transaction: Y.Transaction): void => {
    // The handle is the origin of everything it applies from elsewhere, and of nothing local.
    if (transaction.origin !== handle) return
    for (const event of changeEventsOf(transaction, schema)) {
      if (event.type === 'conflict.opened')
        metrics.conflict(handle.name, event.collection, 'opened')
      else if (event.type === 'conflict.resolved')
        metrics.conflict(handle.name, event.collection, 'resolved')
    }
  }
  let doc = handle.doc
  const follow = ({ doc: next }: { doc: Y.Doc }): void => {
    doc.off('afterTransaction', observe)
    doc = next
    doc.on('afterTransaction', observe)
  }
  doc.on('afterTransaction', observe)
  handle.on('reset', follow)
  return () => {
    doc.off('afterTransaction', observe)
    handle.off('reset', follow)
  }
}
