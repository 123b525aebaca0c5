/** useSyncStatus: a document's sync state, unsaved edits and last save, as the client reports them. */
import type { DocHandle, SyncState, SyncStatus } from '@weft/client'
import { useCallback, useRef, useSyncExternalStore } from 'react'
import { checkHandle } from './check-handle.js'

/** What {@link useSyncStatus} returns; a new object only when one of its values changed. */
export interface DocSyncStatus {
  /** The handle's whole status (`reason`, `attempt`, `code` depending on the state). */
  readonly status: SyncStatus
  /** `offline`, `connecting`, `authenticating`, `syncing`, `synced` or `error`. */
  readonly state: SyncState
  /** Local edits the relay has not reported durable: 0 means "all changes saved". */
  readonly pending: number
  /** When the relay last reported local edits durable (ms since epoch), or `null`. */
  readonly lastSavedAt: number | null
}

const EVENTS = ['status', 'pending', 'saved', 'synced', 'loaded'] as const

/**
 * The sync status of `handle`, re-rendering when its state, `pending` count or `lastSavedAt`
 * changes (from the handle's `status`, `pending` and `saved` events: `pending` falls only when
 * the relay reports edits on its disk, never on a local guess). Throws `INVALID_ARGUMENT` when
 * `handle` is not a `DocHandle`.
 */
export const useSyncStatus = (handle: DocHandle): DocSyncStatus => {
  checkHandle('useSyncStatus', handle)
  const last = useRef<DocSyncStatus | null>(null)
  const subscribe = useCallback(
    (onChange: () => void) => {
      for (const event of EVENTS) handle.on(event, onChange)
      return () => {
        for (const event of EVENTS) handle.off(event, onChange)
      }
    },
    [handle],
  )
  const getSnapshot = useCallback((): DocSyncStatus => {
    const { status, pending, lastSavedAt } = handle
    const previous = last.current
    if (
      previous !== null &&
      previous.status === status &&
      previous.pending === pending &&
      previous.lastSavedAt === lastSavedAt
    ) {
      return previous
    }
    last.current = { status, state: status.state, pending, lastSavedAt }
    return last.current
  }, [handle])
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot)
}
