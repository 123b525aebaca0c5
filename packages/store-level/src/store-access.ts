/** StoreAccess: what the store's helpers need — the database, and sealing and opening values. */
import type { Level } from 'level'

/** The database and the store's value encryption (identity without keys). */
export interface StoreAccess {
  readonly db: Level<string, Uint8Array>
  /** Encrypts a value for `key` (returns it as is without encryption). */
  readonly seal: (key: string, plain: Uint8Array) => Uint8Array
  /** Decrypts a value read under `key`. */
  readonly open: (key: string, value: Uint8Array) => Uint8Array
}

/** One write of a batch. */
export type Op = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string }
