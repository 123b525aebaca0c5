/**
 * Registers: how a record's scalar fields live in its `Y.Map`. Every write of field `f` is its
 * own key, `=f|<stamp>|<author>`, and deletes the keys of `f` the writer could see. So a write
 * supersedes exactly what it saw; writes that did not see each other all remain — a conflict —
 * and every replica ranks them the same way: the latest stamp wins, ties broken by author.
 */
import type * as Y from 'yjs'
import type { Stamp } from './hlc.js'

/** One value written to a field, as stored. */
export interface Entry {
  readonly value: unknown
  readonly stamp: Stamp
  readonly author: string
}

const PREFIX = '='

const prefixOf = (field: string): string => `${PREFIX}${field}|`

/** Key of a write; stamps and authors may not contain `|` in the stamp part (they cannot). */
const keyOf = (field: string, stamp: Stamp, author: string): string =>
  `${prefixOf(field)}${stamp}|${author}`

/** The field a key belongs to, or `null` for keys that are not register entries. */
export const fieldOfKey = (key: string): string | null => {
  if (!key.startsWith(PREFIX)) return null
  const bar = key.indexOf('|')
  return bar < 0 ? null : key.slice(PREFIX.length, bar)
}

const parseKey = (key: string): { stamp: Stamp; author: string } | null => {
  const first = key.indexOf('|')
  const second = key.indexOf('|', first + 1)
  if (first < 0 || second < 0) return null
  return { stamp: key.slice(first + 1, second), author: key.slice(second + 1) }
}

/** Orders entries winner first: later stamp, then greater author. */
export const compareEntries = (a: Entry, b: Entry): number =>
  a.stamp !== b.stamp
    ? a.stamp < b.stamp
      ? 1
      : -1
    : a.author < b.author
      ? 1
      : a.author > b.author
        ? -1
        : 0

/** The entry a register key and its stored value stand for, or `null` when `key` is not one. */
export const entryOfKey = (key: string, stored: unknown): Entry | null => {
  const parsed = fieldOfKey(key) === null ? null : parseKey(key)
  return parsed === null ? null : { value: (stored as { v: unknown } | null)?.v ?? null, ...parsed }
}

/** The entries of `field` still standing, winner first (more than one: a conflict). */
export const entriesOf = (record: Y.Map<unknown>, field: string): Entry[] => {
  const prefix = prefixOf(field)
  const entries: Entry[] = []
  // The map's items directly (what `record.entries()` yields, without its iterator objects).
  for (const [key, item] of record._map) {
    if (item.deleted || !key.startsWith(prefix)) continue
    const content = item.content.getContent()
    const entry = entryOfKey(key, content[content.length - 1])
    if (entry !== null) entries.push(entry)
  }
  return entries.sort(compareEntries)
}

/** Writes `value` to `field`, superseding every entry it can see; returns those entries. */
export const writeEntry = (
  record: Y.Map<unknown>,
  field: string,
  value: unknown,
  stamp: Stamp,
  author: string,
): Entry[] => {
  const seen = entriesOf(record, field)
  for (const entry of seen) record.delete(keyOf(field, entry.stamp, entry.author))
  record.set(keyOf(field, stamp, author), { v: value })
  return seen
}

/** The fields with register entries in a record (including ones a schema does not know). */
export const registerFields = (record: Y.Map<unknown>): Set<string> => {
  const fields = new Set<string>()
  for (const key of record.keys()) {
    const field = fieldOfKey(key)
    if (field !== null) fields.add(field)
  }
  return fields
}
