/** The encryption marker: a schema opened with keys is never written in clear again. */
import { WeftError } from '@weft/protocol'
import type { Keyring } from '@weft/server/store'
import type pg from 'pg'

const CIPHER_NAME = 'aes-256-gcm'

/**
 * Marks a schema opened with keys, and refuses to open a marked one without them: its new
 * values would be written in clear and its encrypted ones could not be read.
 */
export const checkEncryptionMarker = async (
  client: pg.PoolClient,
  schema: string,
  keyring: Keyring | null,
): Promise<void> => {
  if (keyring !== null) {
    await client.query(
      `INSERT INTO ${schema}.markers (name, value) VALUES ('encryption', $1) ON CONFLICT DO NOTHING`,
      [CIPHER_NAME],
    )
    return
  }
  const { rows } = await client.query(`SELECT 1 FROM ${schema}.markers WHERE name = 'encryption'`)
  if (rows.length > 0) {
    throw new WeftError(
      'DECRYPTION_FAILED',
      `PostgreSQL schema ${schema} holds encrypted values; open it with its encryption keys (options.encryption)`,
    )
  }
}
