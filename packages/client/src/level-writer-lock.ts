/** Writer namespaces of LevelLocalStore: which writer id an opener takes, and the Web Locks that guard ids. */
import { WeftError } from '@weft/protocol'
import { isWriterId } from './level-layout.js'

/** How an opener picks its writer id: `'tab'` resumes this tab's id when free, `'new'` never does. */
export type WriterChoice = 'tab' | 'new'

/** A writer id held by this opener; `release` lets another opener adopt its namespace. */
export interface WriterLease {
  readonly writerId: string
  release(): Promise<void>
}

/** The id of the one opener a LevelDB directory allows (its LOCK file makes it exclusive). */
export const EXCLUSIVE_WRITER_ID = 'main'

const FRESH_ID_CHARS = 16
const FRESH_ID_ATTEMPTS = 8

/** The Web Locks API of this environment, if it has one. */
export const webLocks = (): LockManager | undefined =>
  (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks

const writerLockName = (location: string, writerId: string): string =>
  `weft-local-store:${location}:${writerId}`

const rememberedKey = (location: string): string => `weft-local-store-writer:${location}`

const noLease = (writerId: string): WriterLease => ({ writerId, release: async () => {} })

/**
 * Takes the Web Lock of writer `writerId` if nobody holds it, and keeps it until `release`;
 * resolves `null` when another opener (in any tab or worker of this origin) holds it.
 */
export const tryHoldWriter = (
  locks: LockManager,
  location: string,
  writerId: string,
): Promise<WriterLease | null> =>
  new Promise((resolve, reject) => {
    let letGo = (): void => {}
    const held = new Promise<void>((resolveHeld) => (letGo = resolveHeld))
    const request = locks.request(
      writerLockName(location, writerId),
      { ifAvailable: true },
      async (lock) => {
        if (lock === null) return resolve(null)
        resolve({
          writerId,
          release: async () => {
            letGo()
            // Settles once the lock is released, so the next request sees it free.
            await request
          },
        })
        await held
      },
    )
    request.catch(reject)
  })

/**
 * Picks and locks this opener's writer id. An exclusive backend (LevelDB's LOCK file) always
 * uses {@link EXCLUSIVE_WRITER_ID}. With Web Locks, `'tab'` resumes the id this tab remembered in
 * `sessionStorage` when its lock is free (a duplicated tab copies sessionStorage, so a held id
 * means another tab owns it) and otherwise takes, and remembers, a fresh one; `'new'` always takes
 * a fresh one and remembers nothing. Without Web Locks every open takes a fresh id, unlocked.
 */
export const acquireWriter = async (
  location: string,
  choice: WriterChoice,
  exclusive: boolean,
): Promise<WriterLease> => {
  if (exclusive) return noLease(EXCLUSIVE_WRITER_ID)
  const locks = webLocks()
  if (locks === undefined) return noLease(freshWriterId())
  if (choice === 'tab') {
    const remembered = recall(location)
    const lease = isWriterId(remembered) ? await tryHoldWriter(locks, location, remembered) : null
    if (lease !== null) return lease
  }
  for (let attempt = 0; attempt < FRESH_ID_ATTEMPTS; attempt++) {
    const lease = await tryHoldWriter(locks, location, freshWriterId())
    if (lease === null) continue
    if (choice === 'tab') remember(location, lease.writerId)
    return lease
  }
  throw new WeftError(
    'STORAGE_FAILED',
    `cannot lock a fresh writer id for the local store "${location}"`,
  )
}

/**
 * Runs `operation` while holding the layout lock of `location`, so that two tabs opening an old
 * store at once do not both migrate it; runs it directly without Web Locks.
 */
export const withLayoutLock = async <T>(
  location: string,
  exclusive: boolean,
  operation: () => Promise<T>,
): Promise<T> => {
  const locks = exclusive ? undefined : webLocks()
  if (locks === undefined) return operation()
  return locks.request(`weft-local-store-layout:${location}`, operation)
}

/** A random writer id: 16 characters of [a-z0-9], about 82 bits, never `main`. */
const freshWriterId = (): string => {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(FRESH_ID_CHARS))
  let id = ''
  for (const byte of bytes) id += (byte % 36).toString(36)
  return id
}

/** sessionStorage is missing in workers and throws in some sandboxed frames: then nothing is kept. */
const recall = (location: string): string | null => {
  try {
    return globalThis.sessionStorage?.getItem(rememberedKey(location)) ?? null
  } catch {
    return null
  }
}

const remember = (location: string, writerId: string): void => {
  try {
    globalThis.sessionStorage?.setItem(rememberedKey(location), writerId)
  } catch {
    // Not remembered: a reload takes a fresh id and adopts this one's data once it is free.
  }
}
