/** How a record lives in its `Y.Map` (metadata keys) and how it reads as JSON. */
import type * as Y from 'yjs'
import { toJsonValue, type JsonValue } from './json-value.js'
import { entriesOf } from './register.js'
import type { Fields } from './schema.js'

/** Register holding whether the record is deleted (`true`) or restored (`false`). */
export const DELETED_KEY = '@deleted'
/** Register holding the record's owner (absent: its creator). */
export const OWNER_KEY = '@owner'
/** Plain keys written once, when the record is created. */
export const CREATED_BY_KEY = '@createdBy'
export const CREATED_AT_KEY = '@createdAt'
/** Prefix of the key holding a text or list field (`~notes` holds a `Y.Text`). */
export const SEQUENCE_PREFIX = '~'

/** A record as JSON: metadata and every schema field (text as a string, list as an array). */
export type RecordJson = { [field: string]: JsonValue }

/**
 * The record `id` stored in `record` as JSON: `id`, `createdBy`, `createdAt`, `owner`, then every
 * field of `fields` (a scalar's winning value or `null`, a text's string, a list's items; `null`
 * for a text or list the record does not hold).
 */
export const recordToJson = (id: string, record: Y.Map<unknown>, fields: Fields): RecordJson => {
  const values = Object.entries(fields).map(
    ([field, spec]) =>
      [
        field,
        toJsonValue(
          spec.kind === 'scalar'
            ? entriesOf(record, field)[0]?.value
            : record.get(`${SEQUENCE_PREFIX}${field}`),
        ),
      ] as const,
  )
  // fromEntries: a field named "__proto__" stays a plain property.
  return Object.fromEntries([
    ['id', id],
    ['createdBy', toJsonValue(record.get(CREATED_BY_KEY))],
    ['createdAt', toJsonValue(record.get(CREATED_AT_KEY))],
    ['owner', toJsonValue(entriesOf(record, OWNER_KEY)[0]?.value ?? record.get(CREATED_BY_KEY))],
    ...values,
  ])
}

/** Whether the record's deletion flag is set. */
export const isDeletedRecord = (record: Y.Map<unknown>): boolean =>
  entriesOf(record, DELETED_KEY)[0]?.value === true
