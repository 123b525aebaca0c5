/**
 * The value format of encryptLocalStore: one value sealed with AES-256-GCM, and opened again.
 *
 *     1 byte format version (2) · varUint length + UTF-8 key id · 12-byte IV · ciphertext + 16-byte tag
 *
 * Additional authenticated data `weft:v2:<percent-encoded doc>:<kind>` binds a value to its
 * document and kind (`snapshot`, `update`, `outbox`). Format 1 bound `weft:<doc>:snapshot`,
 * `…:update` or `…:outbox:<ref>`; it is still read.
 */
import { WeftError } from '@weft/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

const FORMAT_VERSION = 2
/** The first format bound each outbox value to its ref, which adoption by another writer changes. */
const FORMAT_VERSION_1 = 1
const IV_BYTES = 12
const TAG_BYTES = 16

/** What a value is, as bound into its additional authenticated data. */
export type Kind = 'snapshot' | 'update' | 'outbox'

/** Where a value was read from: its kind, and the ref of an outbox record. */
export interface Slot {
  readonly kind: Kind
  readonly ref?: number
}

/** The kinds of value each slot accepts (format 2); the slot's own kind first, the usual case. */
const ACCEPTED_KINDS: Readonly<Record<Kind, readonly Kind[]>> = {
  snapshot: ['snapshot'],
  // A multi-writer store returns other writers' snapshots and outbox updates among its updates.
  update: ['update', 'snapshot', 'outbox'],
  outbox: ['outbox'],
}

/** Seals `plaintext`, a value of `kind` of `doc`, with `key` (whose id is `id`) and a fresh IV. */
export const sealValue = async (
  key: CryptoKey,
  id: string,
  doc: string,
  kind: Kind,
  plaintext: Uint8Array,
): Promise<Uint8Array> => {
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const ciphertext = await globalThis.crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: associatedData(doc, kind) },
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

/**
 * Opens a value read from `slot` of `doc` with the key its id names among `keys`. Rejects with
 * `DECRYPTION_FAILED` when the value is malformed, its key is missing, or it does not
 * authenticate as any kind the slot accepts (altered, or moved to another document or kind).
 */
export const openValue = async (
  keys: ReadonlyMap<string, CryptoKey>,
  doc: string,
  slot: Slot,
  sealed: Uint8Array,
): Promise<Uint8Array> => {
  const { version, id, iv, ciphertext } = parseSealed(doc, slot, sealed)
  const key = keys.get(id)
  if (key === undefined) {
    throw new WeftError(
      'DECRYPTION_FAILED',
      `the ${describe(slot)} of "${doc}" was encrypted with key "${id}", which is not among the keys given`,
    )
  }
  let failure: unknown
  // Each accepted kind is its own authentication check; the slot's own kind is tried first.
  for (const additionalData of acceptedData(doc, slot, version)) {
    try {
      const algorithm = { name: 'AES-GCM', iv, additionalData }
      return new Uint8Array(await globalThis.crypto.subtle.decrypt(algorithm, key, ciphertext))
    } catch (cause) {
      failure = cause
    }
  }
  throw new WeftError(
    'DECRYPTION_FAILED',
    `the ${describe(slot)} of "${doc}" does not decrypt with key "${id}" (wrong key, or the data was altered or moved)`,
    { cause: failure },
  )
}

const textEncoder = new TextEncoder()

const encodedName = (doc: string): string => {
  try {
    return encodeURIComponent(doc)
  } catch (cause) {
    throw new WeftError('INVALID_ARGUMENT', 'document name is not well-formed Unicode', { cause })
  }
}

/** The additional authenticated data of a value of `kind` sealed now (format 2). */
const associatedData = (doc: string, kind: Kind): Uint8Array<ArrayBuffer> =>
  textEncoder.encode(`weft:v2:${encodedName(doc)}:${kind}`)

/** Every additional authenticated data a value read from `slot` may have been sealed with. */
const acceptedData = (doc: string, slot: Slot, version: number): Uint8Array<ArrayBuffer>[] => {
  if (version === FORMAT_VERSION) {
    return ACCEPTED_KINDS[slot.kind].map((kind) => associatedData(doc, kind))
  }
  const name = encodedName(doc)
  const roles = slot.kind === 'outbox' ? [`outbox:${slot.ref}`] : [slot.kind]
  // A LevelLocalStore adopting a namespace written in format 1 moves its snapshot into the log.
  if (slot.kind === 'update') roles.push('snapshot')
  return roles.map((role) => textEncoder.encode(`weft:${name}:${role}`))
}

const describe = (slot: Slot): string =>
  slot.kind === 'outbox' ? `outbox record ${slot.ref}` : slot.kind

const parseSealed = (
  doc: string,
  slot: Slot,
  sealed: Uint8Array,
): {
  version: number
  id: string
  iv: Uint8Array<ArrayBuffer>
  ciphertext: Uint8Array<ArrayBuffer>
} => {
  const what = `the ${describe(slot)} of "${doc}"`
  const malformed = (why: string): WeftError =>
    new WeftError('DECRYPTION_FAILED', `${what} is not an encrypted value: ${why}`)
  const version = sealed[0]
  if (version !== FORMAT_VERSION && version !== FORMAT_VERSION_1) {
    throw malformed(`unknown format version ${version}`)
  }
  const decoder = decoding.createDecoder(sealed)
  decoding.readUint8(decoder)
  let id: string
  try {
    id = decoding.readVarString(decoder)
  } catch (cause) {
    throw new WeftError('DECRYPTION_FAILED', `${what} has a malformed key id`, { cause })
  }
  const rest = sealed.length - decoder.pos
  if (rest < IV_BYTES + TAG_BYTES) throw malformed(`${rest} bytes after the key id`)
  const iv = ownBuffer(decoding.readUint8Array(decoder, IV_BYTES))
  const ciphertext = ownBuffer(decoding.readTailAsUint8Array(decoder))
  return { version, id, iv, ciphertext }
}

/** WebCrypto takes only ArrayBuffer-backed views; copy anything else (e.g. shared memory). */
export const ownBuffer = (bytes: Uint8Array): Uint8Array<ArrayBuffer> =>
  bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes)
