/** ClientIdOwners: which session owns each Yjs client id writing into a room. */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/**
 * Yjs client ids are bound to an owner (a token subject) when it first writes structs under
 * them. An update or awareness entry under a client id bound to another owner is refused, so
 * nobody can write in another user's name or occupy the clocks of their future edits. Bindings
 * live as long as the room is loaded.
 */
export class ClientIdOwners {
  readonly #owners = new Map<number, string>()

  /**
   * Binds `ids` to `owner` unless one of them belongs to someone else; returns that id (and binds
   * nothing) or `undefined`.
   */
  claim(owner: string, ids: Iterable<number>): number | undefined {
    const fresh: number[] = []
    for (const id of ids) {
      const current = this.#owners.get(id)
      if (current === undefined) fresh.push(id)
      else if (current !== owner) return id
    }
    for (const id of fresh) this.#owners.set(id, owner)
    return undefined
  }

  /** The owner of `id`, if it is bound. */
  ownerOf(id: number): string | undefined {
    return this.#owners.get(id)
  }
}

/** One entry of an awareness update: a client id, its clock, and whether it removes the state. */
export interface AwarenessEntry {
  readonly id: number
  readonly clock: number
  readonly removes: boolean
  /** Where the entry's bytes start and end in the update. */
  readonly start: number
  readonly end: number
}

/** The entries of an awareness update; throws on malformed bytes. */
export const awarenessEntries = (update: Uint8Array): AwarenessEntry[] => {
  const decoder = decoding.createDecoder(update)
  const count = decoding.readVarUint(decoder)
  const entries: AwarenessEntry[] = []
  for (let index = 0; index < count; index++) {
    const start = decoder.pos
    const id = decoding.readVarUint(decoder)
    const clock = decoding.readVarUint(decoder)
    const state = decoding.readVarUint8Array(decoder)
    const removes = state.length === 4 && isNull(state)
    entries.push({ id, clock, removes, start, end: decoder.pos })
  }
  return entries
}

/** `null` in UTF-8 (a removed state), told apart without decoding the string. */
const isNull = (bytes: Uint8Array): boolean =>
  bytes[0] === 0x6e && bytes[1] === 0x75 && bytes[2] === 0x6c && bytes[3] === 0x6c

/** An awareness update holding only `entries` of `update` (their bytes as they are). */
export const awarenessSubset = (
  update: Uint8Array,
  entries: readonly AwarenessEntry[],
): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, entries.length)
  for (const entry of entries) {
    encoding.writeUint8Array(encoder, update.subarray(entry.start, entry.end))
  }
  return encoding.toUint8Array(encoder)
}

/**
 * Whether applying `entry` would change the awareness (the rule of y-protocols: a newer clock,
 * or a removal at the same clock of a state that is there).
 */
export const awarenessEntryChanges = (
  entry: AwarenessEntry,
  known: { clock: number } | undefined,
  hasState: boolean,
): boolean => {
  if (known === undefined) return true
  return known.clock < entry.clock || (known.clock === entry.clock && entry.removes && hasState)
}
