/** SyncStatus: the one discriminated union that says where a document or connection stands. */
import type { ErrorCode } from '@weft/protocol'

/**
 * Where a document (or the whole connection) stands:
 * - `offline`: not connected; `reason` says why (not started, network down, closed…).
 * - `connecting`: opening a socket; `attempt` counts tries since the last stable connection.
 * - `authenticating`: the socket is open and `hello` was sent; waiting for `welcome`.
 * - `syncing`: connected; exchanging state with the relay.
 * - `synced`: this replica has everything the relay had when it opened the document, and keeps
 *   receiving updates live. Local edits may still be pending: see `pending`.
 * - `error`: stopped for a reason that retrying cannot fix (`code` from the error table).
 */
export type SyncStatus =
  | { readonly state: 'offline'; readonly reason: string }
  | { readonly state: 'connecting'; readonly attempt: number; readonly reason: string }
  | { readonly state: 'authenticating' }
  | { readonly state: 'syncing' }
  | { readonly state: 'synced' }
  | { readonly state: 'error'; readonly code: ErrorCode; readonly reason: string }

/** The `state` of a {@link SyncStatus}. */
export type SyncState = SyncStatus['state']
