/**
 * @weft/server/store: what a DocStore implementation needs — the interface, its record types and
 * the state-record check — without the relay (no WebSocket, JWT or schema libraries load).
 */
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
export { stateJson } from './state-json.js'
