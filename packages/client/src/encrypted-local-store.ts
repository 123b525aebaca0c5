/**
 * encryptLocalStore: at-rest encryption of a LocalStore's values with AES-256-GCM (WebCrypto).
 *
 * Each value (snapshot, update, outbox update) is sealed on its own:
 *
 *     1 byte format version (1) · varUint length + UTF-8 key id · 12-byte IV · ciphertext + 16-byte tag
 *
 * with additional authenticated data `weft:<percent-encoded doc>:snapshot`, `…:update` or
 * `…:outbox:<ref>`, so a value moved to another document or role fails to decrypt. Document names,
 * refs, `lastRef` and the number and sizes of values stay in clear text.
 */
import { WeftError } from '@weft/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { LocalChange, LocalDoc, LocalStore, OutboxRecord } from './local-store.js'

/** One AES-256-GCM key and the id written next to every value it encrypts. */
export interface LocalStoreKey {
  /** Stored in clear next to each value, to pick the key that decrypts it; not secret. */
  readonly id: string
  /**
   * 32 raw bytes, or a WebCrypto AES-GCM 256-bit key with usage `decrypt` (and `encrypt` for the
   * last key).
   */
  readonly key: CryptoKey | Uint8Array
}

/** Options of {@link encryptLocalStore}. */
export interface EncryptLocalStoreOptions {
  /** The last key encrypts; every key decrypts. To rotate, append the new key. */
  readonly keys: readonly LocalStoreKey[]
}

const FORMAT_VERSION = 1
const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16

type Role = 'snapshot' | 'update' | `outbox:${number}`

/**
 * Wraps `inner` so that every value it stores is encrypted with AES-256-GCM: the last of
 * `options.keys` encrypts, all of them decrypt (key rotation). A value that no key decrypts, or
 * that was altered or moved to another document or role, makes `load` reject with
 * `DECRYPTION_FAILED`. Throws `INVALID_ARGUMENT` at once for bad options.
 */
export const encryptLocalStore = (
  inner: LocalStore,
  options: EncryptLocalStoreOptions,
): LocalStore => new EncryptedLocalStore(inner, validateKeys(options))

class EncryptedLocalStore implements LocalStore {
  readonly #inner: LocalStore
  readonly #keys: readonly LocalStoreKey[]
  #imported: Promise<Map<string, CryptoKey>> | null = null
  #closed = false

  constructor(inner: LocalStore, keys: readonly LocalStoreKey[]) {
    this.#inner = inner
    this.#keys = keys
  }

  async load(doc: string): Promise<LocalDoc> {
    this.#assertOpen()
    const stored = await this.#inner.load(doc)
    const [snapshot, updates, outbox] = await Promise.all([
      stored.snapshot === null ? null : this.#open(doc, 'snapshot', stored.snapshot),
      Promise.all(stored.updates.map((update) => this.#open(doc, 'update', update))),
      Promise.all(
        stored.outbox.map(async ({ ref, update }): Promise<OutboxRecord> => ({
          ref,
          update: await this.#open(doc, `outbox:${ref}`, update),
        })),
      ),
    ])
    return { snapshot, updates, outbox, lastRef: stored.lastRef }
  }

  async write(doc: string, change: LocalChange): Promise<void> {
    this.#assertOpen()
    const sealed: { -readonly [K in keyof LocalChange]: LocalChange[K] } = {}
    if (change.updates !== undefined) {
      sealed.updates = await Promise.all(
        change.updates.map((update) => this.#seal(doc, 'update', update)),
      )
    }
    if (change.outboxAdd !== undefined) {
      sealed.outboxAdd = await Promise.all(
        change.outboxAdd.map(async ({ ref, update }) => ({
          ref,
          update: await this.#seal(doc, `outbox:${ref}`, update),
        })),
      )
    }
    if (change.outboxRemove !== undefined) sealed.outboxRemove = change.outboxRemove
    await this.#inner.write(doc, sealed)
  }

  async compact(doc: string, snapshot: Uint8Array): Promise<void> {
    this.#assertOpen()
    await this.#inner.compact(doc, await this.#seal(doc, 'snapshot', snapshot))
  }

  async clear(doc: string): Promise<void> {
    this.#assertOpen()
    await this.#inner.clear(doc)
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#inner.close()
  }

  async #seal(doc: string, role: Role, plaintext: Uint8Array): Promise<Uint8Array> {
    const { id } = this.#keys[this.#keys.length - 1]!
    const key = (await this.#cryptoKeys()).get(id)!
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES))
    const ciphertext = await globalThis.crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: associatedData(doc, role) },
      key,
      ownBuffer(plaintext),
    )
    const encoder = encoding.createEncoder()
    encoding.writeUint8(encoder, FORMAT_VERSION)
    encoding.writeVarString(encoder, id)
    encoding.writeUint8Array(encoder, iv)
    encoding.writeUint8Array(encoder, new Uint8Array(ciphertext))
    return encoding.toUint8Array(encoder)
  }

  async #open(doc: string, role: Role, sealed: Uint8Array): Promise<Uint8Array> {
    const { id, iv, ciphertext } = parseSealed(doc, role, sealed)
    const key = (await this.#cryptoKeys()).get(id)
    if (key === undefined) {
      throw new WeftError(
        'DECRYPTION_FAILED',
        `the ${role} of "${doc}" was encrypted with key "${id}", which is not among the keys given`,
      )
    }
    try {
      const plaintext = await globalThis.crypto.subtle.decrypt(
        { name: 'AES-GCM', iv, additionalData: associatedData(doc, role) },
        key,
        ciphertext,
      )
      return new Uint8Array(plaintext)
    } catch (cause) {
      throw new WeftError(
        'DECRYPTION_FAILED',
        `the ${role} of "${doc}" does not decrypt with key "${id}" (wrong key, or the data was altered or moved)`,
        { cause },
      )
    }
  }

  /** Imports raw keys once, on first use (WebCrypto's import is asynchronous). */
  #cryptoKeys(): Promise<Map<string, CryptoKey>> {
    this.#imported ??= Promise.all(
      this.#keys.map(async ({ id, key }): Promise<[string, CryptoKey]> => {
        if (!(key instanceof Uint8Array)) return [id, key]
        const imported = await globalThis.crypto.subtle.importKey(
          'raw',
          ownBuffer(key),
          'AES-GCM',
          false,
          ['encrypt', 'decrypt'],
        )
        return [id, imported]
      }),
    ).then((entries) => new Map(entries))
    return this.#imported
  }

  #assertOpen(): void {
    if (this.#closed) throw new WeftError('CLOSED', 'the encrypted local store is closed')
  }
}

const textEncoder = new TextEncoder()

const associatedData = (doc: string, role: Role): Uint8Array<ArrayBuffer> => {
  let name: string
  try {
    name = encodeURIComponent(doc)
  } catch (cause) {
    throw new WeftError('INVALID_ARGUMENT', 'document name is not well-formed Unicode', { cause })
  }
  return textEncoder.encode(`weft:${name}:${role}`)
}

const parseSealed = (
  doc: string,
  role: Role,
  sealed: Uint8Array,
): { id: string; iv: Uint8Array<ArrayBuffer>; ciphertext: Uint8Array<ArrayBuffer> } => {
  const malformed = (why: string): WeftError =>
    new WeftError('DECRYPTION_FAILED', `the ${role} of "${doc}" is not an encrypted value: ${why}`)
  if (sealed[0] !== FORMAT_VERSION) throw malformed(`unknown format version ${sealed[0]}`)
  const decoder = decoding.createDecoder(sealed)
  decoding.readUint8(decoder)
  let id: string
  try {
    id = decoding.readVarString(decoder)
  } catch (cause) {
    throw new WeftError('DECRYPTION_FAILED', `the ${role} of "${doc}" has a malformed key id`, {
      cause,
    })
  }
  const rest = sealed.length - decoder.pos
  if (rest < IV_BYTES + TAG_BYTES) throw malformed(`${rest} bytes after the key id`)
  const iv = ownBuffer(decoding.readUint8Array(decoder, IV_BYTES))
  const ciphertext = ownBuffer(decoding.readTailAsUint8Array(decoder))
  return { id, iv, ciphertext }
}

/** WebCrypto takes only ArrayBuffer-backed views; copy anything else (e.g. shared memory). */
const ownBuffer = (bytes: Uint8Array): Uint8Array<ArrayBuffer> =>
  bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes)

const isWellFormed = (text: string): boolean => {
  try {
    encodeURIComponent(text)
    return true
  } catch {
    return false
  }
}

const invalid = (message: string): WeftError =>
  new WeftError('INVALID_ARGUMENT', `encryptLocalStore: ${message}`)

const validateKeys = (options: EncryptLocalStoreOptions): readonly LocalStoreKey[] => {
  if (globalThis.crypto?.subtle === undefined) {
    throw invalid('WebCrypto (crypto.subtle) is unavailable; browsers offer it only on https pages')
  }
  const keys: unknown = options?.keys
  if (!Array.isArray(keys) || keys.length === 0) {
    throw invalid('options.keys must be a non-empty array of { id, key }')
  }
  const ids = new Set<string>()
  const checked: LocalStoreKey[] = []
  for (const [index, entry] of (keys as unknown[]).entries()) {
    const { id, key } = (entry ?? {}) as { id?: unknown; key?: unknown }
    const where = `options.keys[${index}]`
    if (typeof id !== 'string' || id.length === 0 || !isWellFormed(id)) {
      throw invalid(`${where}.id must be a non-empty, well-formed string`)
    }
    if (ids.has(id)) throw invalid(`${where}.id "${id}" is used by an earlier key`)
    ids.add(id)
    if (key instanceof Uint8Array) {
      if (key.length !== KEY_BYTES) {
        throw invalid(`${where}.key must be ${KEY_BYTES} bytes (AES-256), not ${key.length}`)
      }
      // A copy: the caller may wipe its buffer before the key is imported on first use.
      checked.push({ id, key: key.slice() })
    } else {
      checkCryptoKey(key, where, index === 0)
      checked.push({ id, key: key as CryptoKey })
    }
  }
  return checked
}

const checkCryptoKey = (key: unknown, where: string, encrypts: boolean): void => {
  const candidate = key as Partial<CryptoKey> | null
  const algorithm = candidate?.algorithm as Partial<AesKeyAlgorithm> | undefined
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    candidate.type !== 'secret' ||
    algorithm?.name !== 'AES-GCM' ||
    algorithm.length !== KEY_BYTES * 8
  ) {
    throw invalid(`${where}.key must be ${KEY_BYTES} raw bytes or an AES-GCM 256-bit CryptoKey`)
  }
  const needed = encrypts ? ['encrypt', 'decrypt'] : ['decrypt']
  for (const usage of needed) {
    if (!candidate.usages?.includes(usage as KeyUsage)) {
      throw invalid(`${where}.key lacks the "${usage}" usage`)
    }
  }
}
