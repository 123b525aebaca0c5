/**
 * @weft/server: the relay core — rooms, sessions in both dialects, acks, in-process services,
 * the change feed, admin operations — and the stores that ship with it. The HTTP routes, webhooks
 * and the light DocStore entry are `@weft/server/http`, `/webhooks` and `/store`.
 */
export { Relay } from './relay.js'
export { RelayDocuments, type DocumentJson, type WriterOptions } from './relay-documents.js'
export { ServiceDocument } from './service-document.js'
export { ChangeFeed, type FeedRead, type FeedReadOptions } from './change-feed.js'
export type { FeedConsumer } from './feed-consumers.js'
export type { RelayDrift } from './relay-drift.js'
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
  parseRecordRules,
  type CollectionRules,
  type RecordRule,
  type RecordRules,
} from './record-rules.js'
export {
  resolveRelayOptions,
  type DocSchema,
  type RelayOptions,
  type ResolvedRelayOptions,
} from './relay-options.js'
export type {
  AppendEntry,
  AppendOptions,
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
export type { ExclusiveLocks, HeldLock } from './exclusive-locks.js'
export type { LogHeads, LogTail } from './log-heads.js'
export { MemoryStore } from './memory-store.js'
export {
  MAX_REVOCATIONS,
  MAX_REVOCATION_TTL_MS,
  REVOCATION_PREFIX,
  type RelayRevocations,
  type Revocation,
  type RevocationInput,
} from './revocations.js'
export {
  decodeBusMessage,
  encodeBusMessage,
  type BusMessage,
  type RelayBus,
  type RelayBusListener,
} from './relay-bus.js'
export { ForwardingStore } from './forwarding-store.js'
export { bindLogger, silentLogger, type LogContext, type Logger } from './logger.js'
export {
  silentMetrics,
  type ConflictChange,
  type RefusalScope,
  type RelayMetrics,
} from './metrics.js'
export type { CatchUpReason } from './room-sequence.js'
export {
  RelayAdmin,
  type RelayAdminEvents,
  type AuditEntry,
  type DocumentDetails,
  type DocumentListing,
} from './admin.js'
