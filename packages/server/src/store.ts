/**
 * @weft/server/store: what a DocStore implementation needs — the interface, its record types, the
 * stored log-record format, the state-record check and the encryption of stored values — without
 * the relay (no WebSocket, JWT or schema libraries load).
 */
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
export type { DocImage, FeedSeqImage } from './doc-image.js'
export type { ExclusiveLocks, HeldLock } from './exclusive-locks.js'
export type { LogHeads, LogTail } from './log-heads.js'
export {
  resolveReencryptLimits,
  type ReencryptLimits,
  type ReencryptOptions,
  type ReencryptResult,
} from './reencrypt-options.js'
export { decodeLogRecord, encodeLogRecord, newestReceivedAtMs } from './log-record.js'
export { stateJson } from './state-json.js'
export {
  isSealed,
  openValue,
  resolveKeyring,
  sealedKeyId,
  sealValue,
  type EncryptionKey,
  type EncryptionOptions,
  type Keyring,
} from './value-cipher.js'
