/** The options of LevelLocalStore.open, and their validation. */
import { WeftError } from '@weft/protocol'
import type { WriterChoice } from './level-writer-lock.js'

/** Options of {@link LevelLocalStore.open}. */
export interface LevelLocalStoreOptions {
  /** In Node, the LevelDB directory (created if missing); in browsers, the IndexedDB database name. */
  readonly location: string
  /**
   * Write every batch with `sync: true`, so a `write` resolves only once it is flushed to disk and
   * survives a power loss, not only a crash of the app. Default `true`. Browsers ignore it.
   */
  readonly sync?: boolean
  /**
   * Which writer namespace a browser opener takes. `'tab'` (the default) resumes the one this tab
   * used before (remembered in `sessionStorage`) when no other opener holds it, so a reloaded tab
   * finds its own data again, and otherwise takes a fresh one; `'new'` always takes a fresh one and
   * remembers nothing. Ignored in Node, where the single opener always writes namespace `main`.
   */
  readonly writer?: WriterChoice
}

const WRITER_CHOICES: readonly unknown[] = ['tab', 'new']

/** The options with defaults applied; throws `INVALID_ARGUMENT` naming the first bad one. */
export const validateLevelOptions = (
  options: LevelLocalStoreOptions,
): { location: string; sync: boolean; writer: WriterChoice } => {
  const location: unknown = options?.location
  if (typeof location !== 'string' || location.length === 0) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      'LevelLocalStore.open needs options.location, a directory (Node) or a database name (browsers)',
    )
  }
  const sync: unknown = options.sync ?? true
  if (typeof sync !== 'boolean') {
    throw new WeftError('INVALID_ARGUMENT', 'LevelLocalStore.open: options.sync must be a boolean')
  }
  const writer: unknown = options.writer ?? 'tab'
  if (!WRITER_CHOICES.includes(writer)) {
    throw new WeftError(
      'INVALID_ARGUMENT',
      `LevelLocalStore.open: options.writer must be 'tab' or 'new', not ${String(writer)}`,
    )
  }
  return { location, sync, writer: writer as WriterChoice }
}
