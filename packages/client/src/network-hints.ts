/** NetworkHints: what the platform knows about connectivity, to reconnect sooner or stop trying. */

/** A hint: the device went online or offline, or the app became visible again. */
export type NetworkHint = 'online' | 'offline' | 'visible'

/** A source of {@link NetworkHint}s; `subscribe` returns the function that unsubscribes. */
export interface NetworkHints {
  subscribe(listener: (hint: NetworkHint) => void): () => void
}

interface BrowserLike {
  addEventListener(type: string, listener: () => void): void
  removeEventListener(type: string, listener: () => void): void
}

/**
 * Hints from a browser: `online`/`offline` events on `window` and `visibilitychange` on
 * `document`. Returns `null` where there is no such environment (Node, workers without them).
 */
export const browserNetworkHints = (): NetworkHints | null => {
  const scope = globalThis as unknown as {
    window?: BrowserLike
    document?: BrowserLike & { visibilityState?: string }
  }
  const { window, document } = scope
  if (window === undefined || typeof window.addEventListener !== 'function') return null
  return {
    subscribe: (listener) => {
      const online = (): void => listener('online')
      const offline = (): void => listener('offline')
      const visibility = (): void => {
        if (document?.visibilityState === 'visible') listener('visible')
      }
      window.addEventListener('online', online)
      window.addEventListener('offline', offline)
      document?.addEventListener('visibilitychange', visibility)
      return () => {
        window.removeEventListener('online', online)
        window.removeEventListener('offline', offline)
        document?.removeEventListener('visibilitychange', visibility)
      }
    },
  }
}

/** The part of React Native's NetInfo state Weft reads (`@react-native-community/netinfo`). */
export interface NetInfoStateLike {
  readonly isConnected: boolean | null
  readonly isInternetReachable?: boolean | null
}

/** React Native's NetInfo module, as far as Weft uses it. */
export interface NetInfoLike {
  addEventListener(listener: (state: NetInfoStateLike) => void): () => void
}

/**
 * Hints from React Native's NetInfo: `offline` when the device has no connection (or NetInfo
 * knows the internet is unreachable), `online` when it has one again. Unknown states (`null`)
 * say nothing. Pass it as `networkHints`.
 */
export const netInfoHints = (netInfo: NetInfoLike): NetworkHints => ({
  subscribe: (listener) => {
    let last: NetworkHint | null = null
    return netInfo.addEventListener((state) => {
      const offline = state.isConnected === false || state.isInternetReachable === false
      const online = state.isConnected === true && state.isInternetReachable !== false
      const hint: NetworkHint | null = offline ? 'offline' : online ? 'online' : null
      if (hint === null || hint === last) return
      last = hint
      listener(hint)
    })
  },
})
