/**
 * encryptLocalStore: at-rest encryption of a LocalStore's values with AES-256-GCM (WebCrypto),
 * each value sealed on its own (the format is in `sealed-value.ts`). Document names, refs,
 * `lastRef` and the number and sizes of values stay in clear text.
 */
import { WeftError } from '@weft/protocol'
import type { LocalChange, LocalDoc, LocalStore, OutboxRecord } from './local-store.js'
import { openValue, ownBuffer, sealValue, type Kind, type Slot } from './sealed-value.js'

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

const KEY_BYTES = 32

const SNAPSHOT: Slot = { kind: 'snapshot' }
const UPDATE: Slot = { kind: 'update' }

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
  /** Present when `inner` can open siblings: the sibling, wrapped with the same keys. */
  readonly openSibling?: () => Promise<LocalStore>

  constructor(inner: LocalStore, keys: readonly LocalStoreKey[]) {
    this.#inner = inner
    this.#keys = keys
    if (inner.openSibling !== undefined) {
      this.openSibling = async () => {
        this.#assertOpen()
        return new EncryptedLocalStore(await inner.openSibling!(), keys)
      }
    }
  }

  async load(doc: string): Promise<LocalDoc> {
    this.#assertOpen()
    const stored = await this.#inner.load(doc)
    const [snapshot, updates, outbox] = await Promise.all([
      stored.snapshot === null ? null : this.#open(doc, SNAPSHOT, stored.snapshot),
      Promise.all(stored.updates.map((update) => this.#open(doc, UPDATE, update))),
      Promise.all(
        stored.outbox.map(async ({ ref, update }): Promise<OutboxRecord> => ({
          ref,
          update: await this.#open(doc, { kind: 'outbox', ref }, update),
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
          update: await this.#seal(doc, 'outbox', update),
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

  async #seal(doc: string, kind: Kind, plaintext: Uint8Array): Promise<Uint8Array> {
    const { id } = this.#keys[this.#keys.length - 1]!
    return sealValue((await this.#cryptoKeys()).get(id)!, id, doc, kind, plaintext)
  }

  async #open(doc: string, slot: Slot, sealed: Uint8Array): Promise<Uint8Array> {
    return openValue(await this.#cryptoKeys(), doc, slot, sealed)
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
