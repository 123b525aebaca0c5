/** @weft/client: one socket for many Weft documents, with outbox, acks, status and reconnection. */
export { createClient, WeftClient, type ClientEvents } from './client.js'
export {
  CLIENT_METRICS,
  type ClientMetricsSnapshot,
  type ConnectedEvent,
  type MetricAttributes,
  type MetricHook,
  type MetricKind,
  type MetricName,
  type MetricSample,
} from './client-metrics.js'
export { trackConflicts } from './track-conflicts.js'
export {
  DocHandle,
  type DocHandleEvents,
  type OpenOptions,
  type RejectedEdit,
} from './doc-handle.js'
export type {
  ClientOptions,
  TabOptions,
  TokenSource,
  WebSocketConstructor,
  WebSocketLike,
} from './client-options.js'
export type { TracingOption } from './client-tracing.js'
export type { TabChannel, TabChannelConstructor, TabLocks, TabMessage } from './tab-messages.js'
export { backoffDelayMs, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js'
export { systemClock, type Clock } from './clock.js'
export type { SyncState, SyncStatus } from './status.js'
export type { LocalChange, LocalDoc, LocalStore, OutboxRecord } from './local-store.js'
export { MemoryLocalStore } from './memory-local-store.js'
export {
  encryptLocalStore,
  type EncryptLocalStoreOptions,
  type LocalStoreKey,
} from './encrypted-local-store.js'
export {
  WeftProvider,
  type ProviderConnectionStatus,
  type WeftProviderEvents,
  type WeftProviderOptions,
} from './provider.js'
export type { BindingFactory, ProviderBinding } from './provider-binding.js'
export {
  browserNetworkHints,
  netInfoHints,
  type NetInfoLike,
  type NetInfoStateLike,
  type NetworkHint,
  type NetworkHints,
} from './network-hints.js'
export type { OutboxLimit, OutboxLimits, OutboxState } from './outbox-watch.js'
export { DEFAULT_OUTBOX_COMPACTION, type OutboxCompaction } from './outbox-compaction.js'
export { followAppState, type AppLifecycle, type AppStateLike } from './lifecycle.js'
