/** Applying the relay's updates to a document without having Yjs re-encode them. */
import * as Y from 'yjs'

/**
 * Applies `updates` in one transaction with `origin` and says whether they changed anything.
 * `listener` (the handle's `update` listener) is off meanwhile, so that Yjs need not encode what
 * changed (a whole document on a first sync) when nothing else listens; it is back before any
 * transaction an observer starts in reply, so local edits made there are still recorded.
 */
export const applyRemoteUpdates = (
  doc: Y.Doc,
  updates: readonly Uint8Array[],
  origin: object,
  listener: (update: Uint8Array, origin: unknown) => void,
): boolean => {
  let changed = false
  let listening = false
  const listen = (): void => {
    if (listening) return
    listening = true
    doc.on('update', listener)
  }
  // Yjs tests for `update` listeners right after this event. Transactions an observer starts
  // while ours is cleaned up come after ours.
  const onCleanup = (transaction: Y.Transaction): void => {
    if (transaction.origin === origin) changed ||= transactionChanged(transaction)
    else listen()
  }
  doc.off('update', listener)
  doc.on('afterTransactionCleanup', onCleanup)
  try {
    Y.transact(
      doc,
      () => {
        for (const update of updates) Y.applyUpdate(doc, update, origin)
      },
      origin,
    )
  } finally {
    doc.off('afterTransactionCleanup', onCleanup)
    listen()
  }
  return changed
}

/**
 * Whether a transaction changed the document (Yjs's own test before it emits `update`). Structs
 * that only wait for missing dependencies count too: they are in the store's pending set.
 */
const transactionChanged = (transaction: Y.Transaction): boolean => {
  if (transaction.deleteSet.clients.size > 0) return true
  for (const [client, clock] of transaction.afterState) {
    if (transaction.beforeState.get(client) !== clock) return true
  }
  const store = transaction.doc.store
  return store.pendingStructs !== null || store.pendingDs !== null
}

/**
 * A document rebuilt from the relay's whole state plus the edits still waiting, under a new
 * Yjs client id (what follows a refused edit). Applied with `origin`, so that nothing records it
 * as a local edit.
 */
export const rebuildDoc = (
  relayState: Uint8Array,
  waiting: readonly Uint8Array[],
  origin: unknown,
  guid: string | undefined,
): Y.Doc => {
  const doc = new Y.Doc(guid === undefined ? {} : { guid })
  Y.transact(
    doc,
    () => {
      Y.applyUpdate(doc, relayState)
      for (const update of waiting) Y.applyUpdate(doc, update)
    },
    origin,
  )
  return doc
}
