/**
 * LevelStore's use of the shared value cipher (`@weft/server/store`): errors name the LevelDB
 * record a value belongs to, and bad keys name `LevelStore.open`.
 */
import {
  openValue as openStoredValue,
  resolveKeyring as resolveStoreKeyring,
  type EncryptionOptions,
  type Keyring,
} from '@weft/server/store'
import { describeKey } from './keys.js'

export {
  isSealed,
  sealedKeyId,
  sealValue,
  type EncryptionKey,
  type EncryptionOptions,
  type Keyring,
} from '@weft/server/store'

/** Checks `options` and imports its keys; throws `INVALID_ARGUMENT` naming `LevelStore.open`. */
export const resolveKeyring = (options: EncryptionOptions): Keyring =>
  resolveStoreKeyring(options, 'LevelStore.open')

/** The plaintext of the value at LevelDB key `key`; errors name its record (`describeKey`). */
export const openValue = (keyring: Keyring | null, key: string, value: Uint8Array): Uint8Array =>
  openStoredValue(keyring, key, value, describeKey)
