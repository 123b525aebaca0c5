/**
 * Encryption at rest of stored values (LevelStore, PostgresStore): AES-256-GCM under named keys,
 * so keys can rotate.
 *
 * A sealed value (format 1):
 *
 *     FF 00 magic · 01 format · u8 key-id length · key id (ASCII) · 12-byte IV · 16-byte tag · ciphertext
 *
 * The value's address in its store (a string naming the document and the kind of record, such as
 * a LevelDB key) is the additional authenticated data, so a value copied elsewhere fails to decrypt.
 *
 * The magic cannot begin a plaintext value of the stores' layouts, which lets encrypted and plaintext
 * values share a store: a log record starts with its format byte 01, metadata with `{`, and a
 * snapshot (a Yjs v1 update) with a lib0 varUint, in which a continuation byte (FF) is never
 * followed by 00.
 */
import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  randomBytes,
  type KeyObject,
} from 'node:crypto'
import { WeftError } from '@weft/protocol'

/** One AES-256 key and the id stored next to every value it encrypts. */
export interface EncryptionKey {
  /** 1 to 255 printable ASCII characters; stored in clear with each value, so not secret. */
  readonly id: string
  /** 32 random bytes. */
  readonly key: Uint8Array
}

/** Which keys a store encrypts and decrypts with. */
export interface EncryptionOptions {
  /** The last key encrypts new values; every key decrypts. Append a new key to rotate. */
  readonly keys: readonly EncryptionKey[]
}

/** Validated keys, ready to use. */
export interface Keyring {
  /** Id of the key that seals new values (the last one given). */
  readonly currentId: string
  readonly keys: ReadonlyMap<string, KeyObject>
}

const MAGIC = [0xff, 0x00] as const
const FORMAT = 1
const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const HEADER_BYTES = MAGIC.length + 2
const KEY_ID = /^[\x20-\x7e]{1,255}$/

/**
 * Checks `options` and imports its keys; throws `INVALID_ARGUMENT` naming the problem, prefixed
 * with `opener` (the call that was given them, e.g. `LevelStore.open`).
 */
export const resolveKeyring = (options: EncryptionOptions, opener = 'open'): Keyring => {
  const invalid = (message: string): WeftError =>
    new WeftError('INVALID_ARGUMENT', `${opener}: ${message}`)
  const keys: unknown = options?.keys
  if (!Array.isArray(keys) || keys.length === 0) {
    throw invalid('options.encryption.keys must be a non-empty array of { id, key }')
  }
  const imported = new Map<string, KeyObject>()
  for (const [index, entry] of (keys as unknown[]).entries()) {
    const { id, key } = (entry ?? {}) as { id?: unknown; key?: unknown }
    const where = `options.encryption.keys[${index}]`
    if (typeof id !== 'string' || !KEY_ID.test(id)) {
      throw invalid(`${where}.id must be 1 to 255 printable ASCII characters`)
    }
    if (imported.has(id)) throw invalid(`${where}.id "${id}" is used by an earlier key`)
    if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
      const got = key instanceof Uint8Array ? `${key.length} bytes` : typeof key
      throw invalid(`${where}.key (id "${id}") must be ${KEY_BYTES} bytes (AES-256), not ${got}`)
    }
    // createSecretKey copies, so the caller may wipe its buffer.
    imported.set(id, createSecretKey(key))
  }
  return { currentId: (keys.at(-1) as EncryptionKey).id, keys: imported }
}

/** True when `value` is sealed (starts with the magic), whatever its key. */
export const isSealed = (value: Uint8Array): boolean =>
  value.length >= HEADER_BYTES && value[0] === MAGIC[0] && value[1] === MAGIC[1]

/** Id of the key that sealed `value`, or `null` for a plaintext value. */
export const sealedKeyId = (value: Uint8Array): string | null => {
  if (!isSealed(value)) return null
  const length = value[MAGIC.length + 1]!
  return Buffer.from(value.subarray(HEADER_BYTES, HEADER_BYTES + length)).toString('latin1')
}

/** Encrypts `plaintext`, stored at address `key`, with the keyring's current key. */
export const sealValue = (keyring: Keyring, key: string, plaintext: Uint8Array): Uint8Array => {
  const id = Buffer.from(keyring.currentId, 'latin1')
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', keyring.keys.get(keyring.currentId)!, iv, {
    authTagLength: TAG_BYTES,
  })
  cipher.setAAD(Buffer.from(key, 'utf8'))
  const head = cipher.update(plaintext)
  const tail = cipher.final()
  return Buffer.concat([
    Buffer.from([...MAGIC, FORMAT, id.length]),
    id,
    iv,
    cipher.getAuthTag(),
    head,
    tail,
  ])
}

/**
 * The plaintext of the value stored at `key`: a plaintext value as it is, a sealed one
 * decrypted. Throws `DECRYPTION_FAILED` naming the record (`describe(key)`, by default the
 * address itself) and the key id (never key material or content) when the value is sealed and
 * `keyring` is null, lacks its key, or it fails authentication (altered, or moved elsewhere).
 */
export const openValue = (
  keyring: Keyring | null,
  key: string,
  value: Uint8Array,
  describe: (key: string) => string = (at) => `value at "${at}"`,
): Uint8Array => {
  if (!isSealed(value)) return value
  const what = describe(key)
  const failed = (why: string, cause?: unknown): WeftError =>
    new WeftError('DECRYPTION_FAILED', `the ${what} ${why}`, cause === undefined ? {} : { cause })
  if (value[MAGIC.length] !== FORMAT) {
    throw failed(`has unknown encryption format ${value[MAGIC.length]}`)
  }
  const id = sealedKeyId(value)!
  const ivStart = HEADER_BYTES + id.length
  if (value.length < ivStart + IV_BYTES + TAG_BYTES) throw failed('is truncated')
  if (keyring === null) {
    throw failed(`is encrypted with key "${id}", but the store was opened without keys`)
  }
  const secret = keyring.keys.get(id)
  if (secret === undefined) {
    throw failed(`is encrypted with key "${id}", which is not among the keys given`)
  }
  const tagStart = ivStart + IV_BYTES
  const decipher = createDecipheriv('aes-256-gcm', secret, value.subarray(ivStart, tagStart), {
    authTagLength: TAG_BYTES,
  })
  decipher.setAAD(Buffer.from(key, 'utf8'))
  decipher.setAuthTag(value.subarray(tagStart, tagStart + TAG_BYTES))
  try {
    const plaintext = Buffer.concat([
      decipher.update(value.subarray(tagStart + TAG_BYTES)),
      decipher.final(),
    ])
    return new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.length)
  } catch (cause) {
    throw failed(`does not decrypt with key "${id}" (wrong key, or the value was altered)`, cause)
  }
}
