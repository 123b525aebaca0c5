/** Decoding a Yjs update once to validate it and learn what it contains. */
import { WeftError } from '@weft/protocol'
import * as Y from 'yjs'
import { scanDeletionUpdate, scanTypedUpdate } from './typed-update.js'

/** What one Yjs update (v1 encoding) contains, enough to decide durability and emptiness. */
export interface UpdateSummary {
  /** For each Yjs client id, the clock just past its last struct in the update. */
  readonly endClocks: ReadonlyMap<number, number>
  /** True when the update deletes anything (deletions do not advance a state vector). */
  readonly hasDeletes: boolean
  /** True when the update carries neither structs nor deletions. */
  readonly isEmpty: boolean
}

/**
 * The updates of the last message decoded by {@link decodeUpdates}, and their decodings, for
 * {@link summarizeUpdate} to take in the same order (`next`), each once: one message at a time,
 * so nothing decoded is kept once the message is summarized or the next one decoded.
 */
let decodedAhead: {
  readonly updates: readonly Uint8Array[]
  readonly decoded: Array<ReturnType<typeof Y.decodeUpdate>>
  next: number
} | null = null

/** The decoding {@link decodeUpdates} made of `update` just before, taken once; else undefined. */
const takeDecodedAhead = (update: Uint8Array): ReturnType<typeof Y.decodeUpdate> | undefined => {
  const ahead = decodedAhead
  if (ahead === null || ahead.updates[ahead.next] !== update) return undefined
  const decoded = ahead.decoded[ahead.next]
  ahead.next += 1
  if (ahead.next === ahead.updates.length) decodedAhead = null
  return decoded
}

/**
 * An update as `Y.decodeUpdate` returns it: typing and erasing read straight from their bytes
 * (`scanTypedUpdate`, `scanDeletionUpdate`), anything else decoded. Throws what
 * `Y.decodeUpdate` throws.
 */
const readUpdate = (update: Uint8Array): ReturnType<typeof Y.decodeUpdate> =>
  scanTypedUpdate(update) ?? scanDeletionUpdate(update) ?? Y.decodeUpdate(update)

/** One update as {@link decodeUpdates} decodes it. Throws what `Y.decodeUpdate` throws. */
export const decodeUpdate = (update: Uint8Array): ReturnType<typeof Y.decodeUpdate> =>
  decodeUpdates([update])

/**
 * The structs and deletions of `updates` (one message's) as one decoded update, items of each
 * client in clock order, without merging them: what the write inspections read, for far less
 * than `Y.mergeUpdates`. Each update is decoded once (typing and erasing read straight from their
 * bytes): {@link summarizeUpdate}, asked next for the same updates in the same order (a relay
 * that inspects a message before it takes it), takes the same decodings. Throws what
 * `Y.decodeUpdate` throws.
 */
export const decodeUpdates = (
  updates: readonly Uint8Array[],
): ReturnType<typeof Y.decodeUpdate> => {
  decodedAhead = null
  const parts = updates.map(readUpdate)
  decodedAhead = { updates, decoded: parts, next: 0 }
  if (parts.length === 1) return parts[0] as ReturnType<typeof Y.decodeUpdate>
  const structs: Array<Y.Item | Y.GC> = []
  const ds = Y.createDeleteSet()
  const lastClocks = new Map<number, number>()
  let ordered = true
  for (const decoded of parts) {
    for (const struct of decoded.structs) {
      const { client, clock } = struct.id
      if ((lastClocks.get(client) ?? -1) > clock) ordered = false
      lastClocks.set(client, clock)
      structs.push(struct)
    }
    for (const [client, ranges] of decoded.ds.clients) {
      const known = ds.clients.get(client)
      if (known === undefined) ds.clients.set(client, ranges.slice())
      else for (const range of ranges) known.push(range)
    }
  }
  if (!ordered) structs.sort((a, b) => a.id.client - b.id.client || a.id.clock - b.id.clock)
  return { structs, ds }
}

/**
 * Decodes a Yjs v1 update completely (structs and delete set) without applying it. A malformed
 * update (truncated, garbage, not a Uint8Array) yields a `BAD_UPDATE` error, so callers can
 * refuse it before it touches a document: Yjs may integrate the structs of an update and only
 * then fail on its delete set, which would leave a document half-changed.
 */
export const summarizeUpdate = (
  update: Uint8Array,
): { ok: true; summary: UpdateSummary } | { ok: false; error: WeftError } => {
  if (!(update instanceof Uint8Array) || update.length === 0) {
    return {
      ok: false,
      error: new WeftError('BAD_UPDATE', 'an update must be a non-empty Uint8Array'),
    }
  }
  let decoded = takeDecodedAhead(update)
  try {
    decoded ??= readUpdate(update)
  } catch (cause) {
    return {
      ok: false,
      error: new WeftError('BAD_UPDATE', 'the Yjs update cannot be decoded', { cause }),
    }
  }
  const endClocks = new Map<number, number>()
  for (const struct of decoded.structs) {
    if (struct instanceof Y.Skip) continue
    const end = struct.id.clock + struct.length
    if (end > (endClocks.get(struct.id.client) ?? 0)) endClocks.set(struct.id.client, end)
  }
  const hasDeletes = decoded.ds.clients.size > 0
  const isEmpty = endClocks.size === 0 && !hasDeletes
  // Yjs encodes "nothing" as [0, 0]. Anything longer that decodes to nothing carries bytes Yjs
  // did not read (or only skips): malformed, whatever the sender meant by it.
  if (isEmpty && !(update.length === 2 && update[0] === 0 && update[1] === 0)) {
    return {
      ok: false,
      error: new WeftError(
        'BAD_UPDATE',
        `the ${update.length}-byte update decodes to nothing: it is not a Yjs v1 update`,
      ),
    }
  }
  return {
    ok: true,
    summary: { endClocks, hasDeletes, isEmpty },
  }
}

/**
 * True when every struct of the update is covered by the state vector. Deletions are not
 * considered: a state vector cannot say whether a deletion is known.
 */
export const stateVectorCovers = (
  stateVector: ReadonlyMap<number, number>,
  summary: UpdateSummary,
): boolean => {
  for (const [client, end] of summary.endClocks) {
    if ((stateVector.get(client) ?? 0) < end) return false
  }
  return true
}

/**
 * Decodes an encoded state vector, returning a `BAD_MESSAGE` error for malformed bytes instead of
 * throwing.
 */
export const decodeStateVector = (
  bytes: Uint8Array,
): { ok: true; stateVector: Map<number, number> } | { ok: false; error: WeftError } => {
  try {
    return { ok: true, stateVector: Y.decodeStateVector(bytes) }
  } catch (cause) {
    return { ok: false, error: new WeftError('BAD_MESSAGE', 'malformed state vector', { cause }) }
  }
}
