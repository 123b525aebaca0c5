/** @weft/store-level: the relay's DocStore on LevelDB. */
export { LevelStore, type LevelStoreOptions } from './level-store.js'
export type { EncryptionKey, EncryptionOptions } from './value-cipher.js'
export type { ReencryptOptions, ReencryptResult } from './reencrypt.js'
