/** useUnsavedChangesGuard: the browser asks before leaving a page with edits not yet on the relay. */
import type { DocHandle } from '@weft/client'
import { useEffect } from 'react'
import { checkHandle } from './check-handle.js'
import { useSyncStatus } from './use-sync-status.js'

/**
 * While `handle` has edits the relay has not reported durable (`pending > 0`), a `beforeunload`
 * listener makes the browser ask before the page is closed or reloaded; it is removed as soon as
 * they are saved. The edits are safe in the local store either way (they are sent on the next
 * visit): this guards against leaving for good, or a device whose storage is cleared. Returns
 * `pending`. Pass `enabled: false` to turn it off. Throws `INVALID_ARGUMENT` when `handle` is not
 * a `DocHandle`. Browsers show their own message, not the app's.
 */
export const useUnsavedChangesGuard = (
  handle: DocHandle,
  options: { readonly enabled?: boolean } = {},
): number => {
  checkHandle('useUnsavedChangesGuard', handle)
  const { pending } = useSyncStatus(handle)
  const guarding = options.enabled !== false && pending > 0
  useEffect(() => {
    if (!guarding || typeof window === 'undefined') return
    const onBeforeUnload = (event: BeforeUnloadEvent): void => {
      event.preventDefault()
      // Older browsers ask only when returnValue is set.
      event.returnValue = ''
    }
    window.addEventListener('beforeunload', onBeforeUnload)
    return () => window.removeEventListener('beforeunload', onBeforeUnload)
  }, [guarding])
  return pending
}
