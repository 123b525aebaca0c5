/** @weft/store-postgres: the relay's DocStore on PostgreSQL, shared by several relays. */
export { PostgresStore, type PostgresStoreOptions } from './postgres-store.js'
export type { EncryptionKey, EncryptionOptions } from '@weft/server/store'
export { PostgresImport, type ImportedHead, type PostgresImportOptions } from './postgres-import.js'
