/** App lifecycle: an app in the background keeps its edits but not its socket (phones above all). */

/** Where the app is: on screen, or in the background. */
export type AppLifecycle = 'foreground' | 'background'

/** The status reason while the app is in the background. */
export const BACKGROUND_REASON = 'the app is in the background'

/** React Native's `AppState`, as far as Weft uses it. */
export interface AppStateLike {
  addEventListener(
    type: 'change',
    listener: (state: string) => void,
  ): { remove(): void } | (() => void) | undefined
}

/**
 * Follows React Native's `AppState`: `active` brings the client to the foreground, `background`
 * sends it to the background; `inactive` (iOS, briefly, in the app switcher) changes nothing.
 * Returns the function that stops following.
 */
export const followAppState = (
  client: { setLifecycle(state: AppLifecycle): void },
  appState: AppStateLike,
): (() => void) => {
  const subscription = appState.addEventListener('change', (state) => {
    if (state === 'active') client.setLifecycle('foreground')
    else if (state === 'background') client.setLifecycle('background')
  })
  return () => {
    if (typeof subscription === 'function') subscription()
    else subscription?.remove()
  }
}
