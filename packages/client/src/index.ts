/** @weft/client: one socket for many Weft documents, with outbox, acks, status and reconnection. */
export { createClient, WeftClient, type ClientEvents } from './client.js'
export { DocHandle, type DocHandleEvents } from './doc-handle.js'
export type { ClientOptions, TokenSource, WebSocketConstructor } from './client-options.js'
export { backoffDelayMs, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js'
export type { SyncState, SyncStatus } from './status.js'
