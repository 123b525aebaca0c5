/** usePresence: the awareness states of the other clients on a document. */
import type { DocHandle } from '@weft/client'
import { useCallback, useRef, useSyncExternalStore } from 'react'
import { checkHandle } from './check-handle.js'

/** Another client's presence on the document. */
export interface Peer {
  /** Its awareness client id (its Yjs client id). */
  readonly clientId: number
  /** What it set with `awareness.setLocalState` / `setLocalStateField` (a cursor, a name…). */
  readonly state: Readonly<Record<string, unknown>>
}

/**
 * The other clients present on `handle`'s document (other devices, tabs and users; not this
 * one, nor clients whose state is empty because they never set one), ordered by client id. It re-renders when one arrives, leaves (its state removed or timed
 * out) or changes its state; not on the awareness heartbeats that change nothing. Set this
 * client's own state with `handle.awareness.setLocalStateField(…)`. It follows the handle's new
 * `awareness` after a `reset`. Throws `INVALID_ARGUMENT` when `handle` is not a `DocHandle`.
 */
export const usePresence = (handle: DocHandle): readonly Peer[] => {
  checkHandle('usePresence', handle)
  const last = useRef<{ peers: readonly Peer[]; key: string } | null>(null)
  const subscribe = useCallback(
    (onChange: () => void) => {
      let awareness = handle.awareness
      awareness.on('change', onChange)
      const onReset = (): void => {
        awareness.off('change', onChange)
        awareness = handle.awareness
        awareness.on('change', onChange)
        onChange()
      }
      handle.on('reset', onReset)
      return () => {
        awareness.off('change', onChange)
        handle.off('reset', onReset)
      }
    },
    [handle],
  )
  const getSnapshot = useCallback((): readonly Peer[] => {
    const { awareness } = handle
    const peers: Peer[] = [...awareness.getStates()]
      // A client that set nothing presents nobody (a tab group's hub, a script syncing data).
      .filter(
        ([clientId, state]) => clientId !== awareness.clientID && Object.keys(state).length > 0,
      )
      .sort(([a], [b]) => a - b)
      .map(([clientId, state]) => ({ clientId, state }))
    // Awareness keeps a state object until it changes: identity says whether anything did.
    const key = peers.map(({ clientId }) => clientId).join(',')
    const previous = last.current
    if (
      previous !== null &&
      previous.key === key &&
      previous.peers.every((peer, index) => peer.state === peers[index]?.state)
    ) {
      return previous.peers
    }
    last.current = { peers, key }
    return peers
  }, [handle])
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot)
}
