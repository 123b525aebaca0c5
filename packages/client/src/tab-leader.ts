/** runForLeader: one tab of a group leads at a time, elected with a Web Lock. */
import type { TabLocks } from './tab-messages.js'

/** A tab's candidacy; `stop` withdraws it, or steps down and waits for `lead`'s stop. */
export interface Candidacy {
  stop(): Promise<void>
}

/**
 * Queues for the group's leader lock; once it is granted (at once, or when the leading tab
 * closes, crashes or steps down: the browser releases a dead tab's locks), calls `lead` and holds
 * the lock until {@link Candidacy.stop}, which then runs the stop function `lead` returned.
 */
export const runForLeader = (
  locks: TabLocks,
  group: string,
  lead: () => Promise<() => Promise<void>>,
): Candidacy => {
  const abort = new AbortController()
  let resign = (): void => {}
  const resigned = new Promise<void>((resolve) => (resign = resolve))
  let leading: Promise<void> | null = null
  void locks
    .request(`weft-tab-leader:${group}`, { signal: abort.signal }, () => {
      if (abort.signal.aborted) return undefined
      leading = (async () => {
        const stopLeading = await lead()
        await resigned
        await stopLeading()
      })()
      return leading
    })
    .catch(() => {
      // Withdrawn before it was granted (AbortError), or lead() failed: the lock is released.
    })
  return {
    stop: async () => {
      abort.abort()
      resign()
      if (leading !== null) await leading.catch(() => {})
    },
  }
}
