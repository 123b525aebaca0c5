/** ClientIdOwners: which session owns each Yjs client id writing into a room, kept with the document. */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { DocStore } from './doc-store.js'

/** A Yjs client id bound to the token subject that first wrote under it. */
export interface ClientIdBinding {
  readonly id: number
  readonly owner: string
}

/**
 * The prefix of a document's bindings among the store's state records:
 * `client-ids␁<document>␁<client id>` (document names hold no control characters, so one
 * document's prefix never covers another's keys).
 */
const keyPrefix = (doc: string): string => `client-ids\u0001${doc}\u0001`

/** The bindings stored for `doc`; entries that are not a binding are skipped. */
export const readClientIdBindings = async (
  store: DocStore,
  doc: string,
): Promise<ClientIdBinding[]> => {
  const prefix = keyPrefix(doc)
  const bindings: ClientIdBinding[] = []
  for (const { key, value } of await store.readState(prefix)) {
    const id = Number(key.slice(prefix.length))
    if (Number.isSafeInteger(id) && id >= 0 && typeof value === 'string')
      bindings.push({ id, owner: value })
  }
  return bindings
}

/** Stores `bindings` of `doc` (in the store's write order: before any later append). */
export const writeClientIdBindings = (
  store: DocStore,
  doc: string,
  bindings: readonly ClientIdBinding[],
): Promise<void> =>
  store.writeState(
    bindings.map(({ id, owner }) => ({ key: `${keyPrefix(doc)}${id}`, value: owner })),
  )

/** Removes every binding of `doc` (it was deleted). */
export const forgetClientIdBindings = async (store: DocStore, doc: string): Promise<void> => {
  const stored = await store.readState(keyPrefix(doc))
  if (stored.length > 0) await store.writeState(stored.map(({ key }) => ({ key, value: null })))
}

/**
 * Yjs client ids are bound to an owner (a token subject) when it first writes structs under
 * them. An update or awareness entry under a client id bound to another owner is refused, so
 * nobody can write in another user's name or occupy the clocks of their future edits. Bindings
 * are kept with the document (`bound` reports each new one, for the room to store; `restore`
 * takes what was stored), so they survive an unload and a restart.
 */
export class ClientIdOwners {
  readonly #owners = new Map<number, string>()
  readonly #bound: (bindings: readonly ClientIdBinding[]) => void

  constructor(bound: (bindings: readonly ClientIdBinding[]) => void = () => {}) {
    this.#bound = bound
  }

  /** Takes bindings stored earlier; one already made here stays. */
  restore(bindings: Iterable<ClientIdBinding>): void {
    for (const { id, owner } of bindings) if (!this.#owners.has(id)) this.#owners.set(id, owner)
  }

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
    if (fresh.length > 0) this.#bound(fresh.map((id) => ({ id, owner })))
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
