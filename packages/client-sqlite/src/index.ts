/** @weft/client-sqlite: a Weft client's local store in SQLite, for React Native and Node. */
export { SqliteLocalStore, type SqliteLocalStoreOptions } from './sqlite-local-store.js'
export {
  betterSqlite3Executor,
  expoSqliteExecutor,
  opSqliteExecutor,
  type BetterSqlite3Like,
  type ExpoSqliteLike,
  type OpSqliteLike,
  type SqlExecutor,
  type SqlValue,
} from './sql-executor.js'
