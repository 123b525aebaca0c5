/** @weft/store-level: the relay's DocStore on LevelDB. */
export { LevelStore, type LevelStoreOptions } from './level-store.js'
