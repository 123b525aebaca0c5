/** ExclusiveLocks: the optional store capability behind exactly-one duties among relays sharing a store. */
import type { DocStore } from './doc-store.js'

/**
 * A lock one process of a cluster holds at a time, taken with {@link ExclusiveLocks.tryLock}.
 * Holding it is not enough to write safely (a holder may not yet know it lost the lock): writes
 * that must come from the holder go through {@link HeldLock.writeState}, which the store refuses
 * once a newer holder took the lock.
 */
export interface HeldLock {
  /** The fencing token: larger than the token of every earlier holder of this lock. */
  readonly token: number
  /** Resolves once the lock is lost (its connection failed or stopped answering) or released. */
  readonly lost: Promise<void>
  /**
   * Writes state records atomically, only while this holder's token is the newest; resolves
   * false (writing nothing) once a newer holder took the lock.
   */
  writeState(records: ReadonlyArray<{ key: string; value: unknown }>): Promise<boolean>
  /** Gives the lock up. */
  release(): Promise<void>
}

/**
 * What a store several relays share offers so that exactly-one duties (a webhook endpoint's
 * delivery loop) run on one relay at a time. A store without it serves one relay, which does
 * every duty itself.
 */
export interface ExclusiveLocks {
  /** Takes lock `name` if no other process holds it; resolves null when one does. */
  tryLock(name: string): Promise<HeldLock | null>
}

/** Whether `store` offers {@link ExclusiveLocks}. */
export const hasExclusiveLocks = (store: DocStore): store is DocStore & ExclusiveLocks =>
  typeof (store as Partial<ExclusiveLocks>).tryLock === 'function'
