/** The `v1:encryption` marker: a store opened with keys is never written in clear again. */
import { WeftError } from '@weft/protocol'
import type { Level } from 'level'
import { ENCRYPTION_KEY } from './keys.js'
import type { Keyring } from './value-cipher.js'

const CIPHER_NAME = 'aes-256-gcm'
const textEncoder = new TextEncoder()

/**
 * Marks a store opened with keys, and refuses to open a marked store without them: its new
 * values would be written in clear and its encrypted ones could not be read.
 */
export const checkEncryptionMarker = async (
  db: Level<string, Uint8Array>,
  path: string,
  keyring: Keyring | null,
): Promise<void> => {
  const marked = (await db.get(ENCRYPTION_KEY)) !== undefined
  if (keyring !== null && !marked) {
    await db.put(ENCRYPTION_KEY, textEncoder.encode(CIPHER_NAME), { sync: true })
  } else if (keyring === null && marked) {
    throw new WeftError(
      'DECRYPTION_FAILED',
      `${path} holds encrypted values; open it with its encryption keys (options.encryption)`,
    )
  }
}
