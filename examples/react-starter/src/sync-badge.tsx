import type { DocHandle } from '@weft/client'
import { useSyncStatus, useUnsavedChangesGuard } from '@weft/react'

/** What the relay has of a document: "saved" only once it reported every edit on its disk. */
export const SyncBadge = ({ handle, label }: { handle: DocHandle; label: string }) => {
  const { state, pending, lastSavedAt } = useSyncStatus(handle)
  useUnsavedChangesGuard(handle)
  const text =
    pending > 0
      ? `${pending} change${pending === 1 ? '' : 's'} waiting (${state})`
      : state === 'synced'
        ? 'all changes saved'
        : state
  return (
    <span
      className="sync"
      data-doc={label}
      data-state={state}
      data-pending={pending}
      title={
        lastSavedAt === null
          ? 'nothing saved yet'
          : `last saved ${new Date(lastSavedAt).toLocaleTimeString()}`
      }
    >
      {text}
    </span>
  )
}
