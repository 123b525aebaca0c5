/**
 * applyTransaction: a sender's updates applied to a room's document in one Yjs transaction, with
 * what the transaction changed (the update to forward and store) and, with a schema, the domain
 * events it produced.
 */
import { changeEventsOf, type AnySchema, type ChangeEvent } from '@weft/doc'
import * as Y from 'yjs'

/** What one transaction did. */
export interface AppliedTransaction {
  /** What it changed, as Yjs encodes it; `null` when it changed nothing. */
  readonly emitted: Uint8Array | null
  /** Its domain events (documents with a schema), else empty. */
  readonly events: ChangeEvent[]
}

/** Applies `updates` to `doc` in one transaction; throws what Yjs throws (the doc may be half-changed). */
export const applyTransaction = (
  doc: Y.Doc,
  updates: readonly Uint8Array[],
  schema: AnySchema | null,
): AppliedTransaction => {
  let emitted: Uint8Array | null = null
  let events: ChangeEvent[] = []
  const capture = (update: Uint8Array): void => {
    emitted = update
  }
  // Called before Yjs collects the transaction's deletions, while their content is readable.
  const describe = (transaction: Y.Transaction): void => {
    if (schema !== null) events = changeEventsOf(transaction, schema)
  }
  doc.on('update', capture)
  if (schema !== null) doc.on('afterTransaction', describe)
  try {
    Y.transact(doc, () => {
      for (const update of updates) Y.applyUpdate(doc, update)
    })
  } finally {
    doc.off('update', capture)
    doc.off('afterTransaction', describe)
  }
  return { emitted, events }
}
