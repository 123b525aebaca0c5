/**
 * Presence from token claims: fields of a session's awareness state that the relay sets from its
 * verified token, whatever the client sent.
 */
import { WeftError } from '@weft/protocol'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { AwarenessEntry } from './client-id-owners.js'

/**
 * Presence field → token claim, both as dot paths: `{ 'user.name': 'name' }` sets the state's
 * `user.name` to the token's `name` claim (and removes it when the token has none).
 */
export type PresenceClaims = Readonly<Record<string, string>>

const PATH = /^[^.\s]+(\.[^.\s]+)*$/
const MAX_FIELDS = 32

/** Checks `presenceClaims` of the relay options; throws `INVALID_ARGUMENT` naming the problem. */
export const checkPresenceClaims = (value: unknown): PresenceClaims | null => {
  if (value === undefined || value === null) return null
  const invalid = (why: string) =>
    new WeftError('INVALID_ARGUMENT', `options.presenceClaims ${why}`)
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid('must map presence fields to token claims, e.g. { "user.name": "name" }')
  const entries = Object.entries(value as Record<string, unknown>)
  if (entries.length > MAX_FIELDS) throw invalid(`names at most ${MAX_FIELDS} fields`)
  for (const [field, claim] of entries) {
    if (!PATH.test(field))
      throw invalid(`has a field that is not a dot path: ${JSON.stringify(field)}`)
    if (typeof claim !== 'string' || !PATH.test(claim))
      throw invalid(
        `maps "${field}" to something that is not a claim path: ${JSON.stringify(claim)}`,
      )
  }
  const fields = entries.map(([field]) => field)
  for (const field of fields) {
    const nested = fields.find((other) => other.startsWith(`${field}.`))
    if (nested !== undefined) throw invalid(`names both "${field}" and "${nested}" inside it`)
  }
  return Object.freeze(Object.fromEntries(entries)) as PresenceClaims
}

/** The value at a dot path of `source`, or `undefined`. */
const valueAt = (source: unknown, path: string): unknown => {
  let value = source
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
    value = Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined
  }
  return value
}

/** Sets (or, for `undefined`, removes) the value at a dot path of `target`. */
const setAt = (target: Record<string, unknown>, path: string, value: unknown): void => {
  const keys = path.split('.')
  const last = keys.pop() as string
  let parent = target
  for (const key of keys) {
    const next = Object.hasOwn(parent, key) ? parent[key] : undefined
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      if (value === undefined) return
      parent[key] = {}
    }
    parent = parent[key] as Record<string, unknown>
  }
  if (value === undefined) delete parent[last]
  else parent[last] = value
}

/**
 * `entries` of the awareness `update` with the fields `mapping` names set from `claims`, as an
 * awareness update. Removals stay as they are; a state that is not a JSON object becomes one.
 */
export const withClaimedPresence = (
  update: Uint8Array,
  entries: readonly AwarenessEntry[],
  mapping: PresenceClaims,
  claims: Readonly<Record<string, unknown>>,
): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, entries.length)
  for (const entry of entries) {
    if (entry.removes) {
      encoding.writeUint8Array(encoder, update.subarray(entry.start, entry.end))
      continue
    }
    const decoder = decoding.createDecoder(update.subarray(entry.start, entry.end))
    decoding.readVarUint(decoder)
    decoding.readVarUint(decoder)
    let state: unknown
    try {
      state = JSON.parse(decoding.readVarString(decoder))
    } catch {
      state = {}
    }
    const object =
      typeof state === 'object' && state !== null && !Array.isArray(state)
        ? (state as Record<string, unknown>)
        : {}
    for (const [field, claim] of Object.entries(mapping))
      setAt(object, field, valueAt(claims, claim))
    encoding.writeVarUint(encoder, entry.id)
    encoding.writeVarUint(encoder, entry.clock)
    encoding.writeVarString(encoder, JSON.stringify(object))
  }
  return encoding.toUint8Array(encoder)
}
