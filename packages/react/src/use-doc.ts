/** useDoc: a component's DocHandle, open while it is mounted, optionally suspending until loaded or synced. */
import { WeftClient, type DocHandle, type SyncStatus } from '@weft/client'
import { WeftError } from '@weft/protocol'
import { useEffect } from 'react'
import { useProvidedClient } from './client-context.js'
import { acquireHandle, holdHandle, releaseHandle, waitOn } from './handle-cache.js'
import { invalid } from './invalid.js'

/** Options of {@link useDoc}. */
export interface UseDocOptions {
  /**
   * Suspend (throw to the nearest `<Suspense>`) until the local copy is in `handle.doc`
   * (`'loaded'`, fast and offline-safe) or the relay's state has arrived (`'synced'`, which
   * waits for a connection; only the first time: a later disconnection does not suspend again).
   * Default: never suspend; the handle is returned at once.
   */
  readonly suspend?: 'loaded' | 'synced' | false
  /** Open the document on this client instead of the {@link WeftClientProvider}'s. */
  readonly client?: WeftClient
}

/**
 * The `DocHandle` of document `name`, open while a component using it is mounted: every
 * component asking for the same name on the same client shares one handle, closed shortly after
 * the last of them unmounts. Throws `BAD_DOC_NAME` for an invalid name, `INVALID_ARGUMENT` for a
 * bad option or when the app opened `name` itself with `client.open` (use one or the other).
 * While suspended for `'loaded'` or `'synced'`, a handle in `error` throws its `WeftError` to the
 * nearest error boundary instead.
 */
export const useDoc = (name: string, options: UseDocOptions = {}): DocHandle => {
  const provided = useProvidedClient()
  const client = options.client ?? provided
  if (client === null) {
    throw invalid(
      'no WeftClientProvider above this component: wrap the app in <WeftClientProvider client={client}>, or pass options.client',
    )
  }
  if (!(client instanceof WeftClient)) throw invalid("useDoc's options.client must be a WeftClient")
  const suspend = options.suspend ?? false
  if (typeof name !== 'string') throw invalid('useDoc needs a document name (a string)')
  if (suspend !== false && suspend !== 'loaded' && suspend !== 'synced') {
    throw invalid("useDoc's options.suspend must be 'loaded', 'synced' or false")
  }
  const entry = acquireHandle(client, name)
  useEffect(() => {
    holdHandle(entry)
    return () => releaseHandle(client, name, entry)
  }, [client, name, entry])

  const { handle } = entry
  if (suspend !== false) {
    const { status } = handle
    if (status.state === 'error') {
      // The reason is often the message of the handle's own WeftError, which starts with the code.
      const reason = status.reason.startsWith(`${status.code}: `)
        ? status.reason.slice(status.code.length + 2)
        : status.reason
      throw new WeftError(status.code, reason)
    }
    if (!entry.loaded)
      throw waitOn(client, name, entry, 'loaded', () =>
        settledOrError(handle, () => handle.whenLoaded()),
      )
    // Only until the first sync: a connection lost later shows in useSyncStatus, not a fallback.
    if (suspend === 'synced' && !entry.synced && !handle.synced) {
      throw waitOn(client, name, entry, 'synced', () =>
        settledOrError(handle, () => handle.whenSynced()),
      )
    }
  }
  return handle
}

/**
 * Resolves when `wait` settles or the handle's status turns to `error` (a document the relay
 * refused never syncs), so a suspended render always runs again and can report it.
 */
const settledOrError = (handle: DocHandle, wait: () => Promise<void>): Promise<void> =>
  new Promise<void>((resolve) => {
    const onStatus = (status: SyncStatus): void => {
      if (status.state === 'error') done()
    }
    const done = (): void => {
      handle.off('status', onStatus)
      resolve()
    }
    handle.on('status', onStatus)
    wait().then(done, done)
  })
