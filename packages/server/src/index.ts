/** @weft/server: the relay core — rooms, sessions in both dialects, acks, and the DocStore interface. */
export { Relay } from './relay.js'
export { RelayDocuments, type DocumentJson, type WriterOptions } from './relay-documents.js'
export { ServiceDocument } from './service-document.js'
export { ChangeFeed, type FeedRead, type FeedReadOptions } from './change-feed.js'
export {
  accessFor,
  jwtAuth,
  matchesPattern,
  openAuth,
  SCOPES_CLAIM,
  type Authenticator,
  type DocAccess,
  type DocScope,
  type Identity,
  type JwtAuthOptions,
} from './auth.js'
export {
  resolveRelayOptions,
  type DocSchema,
  type RelayOptions,
  type ResolvedRelayOptions,
} from './relay-options.js'
export type {
  AppendEntry,
  DocHistory,
  DocStore,
  DocSummary,
  FeedChange,
  FeedEntry,
  FeedPage,
  HistoryRecord,
  StateRecord,
  StoredDoc,
  UpdateMeta,
} from './doc-store.js'
export { MemoryStore, stateJson } from './memory-store.js'
export { ForwardingStore } from './forwarding-store.js'
export { bindLogger, silentLogger, type LogContext, type Logger } from './logger.js'
export { Room, type RoomPeer, type RoomSettings } from './room.js'
export { RoomRegistry, type RoomRegistrySettings } from './room-registry.js'
export { Outgoing, type Dialect } from './outgoing.js'
export {
  decodeYwsMessage,
  encodeYwsAwareness,
  encodeYwsSync,
  type YwsMessage,
} from './yws-codec.js'
export { silentMetrics, type RefusalScope, type RelayMetrics } from './metrics.js'
export { RelayAdmin, type AuditEntry, type DocumentDetails, type DocumentListing } from './admin.js'
export { changeToRestore } from './restore.js'
export { createHttpApi, type HttpApiOptions, type HttpHandler } from './http-api.js'
export { feedEventJson } from './feed-event.js'
export {
  bearerToken,
  httpStatusOf,
  readHttpBody,
  readHttpJson,
  sendHttp,
  sendHttpError,
} from './http-support.js'
export { parseRecordChanges, type RecordChange } from './record-changes.js'
export { WebhookDispatcher, type WebhookDispatcherOptions } from './webhook-dispatcher.js'
export type { DeadLetter, WebhookEndpointStatus, WebhookEvent } from './webhook-endpoint.js'
export type { WebhookEndpointOptions } from './webhook-options.js'
