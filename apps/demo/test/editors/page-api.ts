/** What each editor page shows the browser tests (`window.weftEditor`). */
import type { WeftClient, WeftProvider } from '@weft/client'

/** The user a tab types as: its cursor label in the other tabs. */
export interface PageUser {
  readonly name: string
  readonly color: string
}

/** An editor bound through `provider.bind`: its visible text and the shared type it is bound to. */
export interface MountedEditor {
  /** The text the editor shows. */
  visible(): string
  /** The shared type's `toString()`, as the relay's copy gives it. */
  shared(): string
  /** Appends `text` to the document's shared type directly (not through the editor). */
  appendShared(text: string): void
}

/** Binds an editor in `parent` to the provider's document, following it across resets. */
export type MountEditor = (
  provider: WeftProvider,
  parent: HTMLElement,
  user: PageUser,
) => MountedEditor

/** `window.weftEditor` on the test page. */
export interface PageApi extends MountedEditor {
  readonly client: WeftClient
  readonly provider: WeftProvider
}
