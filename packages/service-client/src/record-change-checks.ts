/** checkRecordChanges: the shape `POST /v1/docs/<name>/records` accepts, checked before sending. */
import { WeftError } from '@weft/protocol'
import type { RecordChange } from './api-types.js'

/** Most changes one `changeRecords` call may carry (the relay's limit). */
export const MAX_RECORD_CHANGES = 1000

/** The keys each operation takes: required, then optional. */
const SHAPES: Readonly<Record<RecordChange['op'], readonly [string[], string[]]>> = {
  create: [['op', 'collection', 'fields'], ['id']],
  update: [['op', 'collection', 'id', 'fields'], []],
  delete: [['op', 'collection', 'id'], []],
  restore: [['op', 'collection', 'id'], []],
  resolve: [['op', 'collection', 'id', 'field', 'value'], []],
}

const NAMES = new Set(['collection', 'id', 'field'])

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  [Object.prototype, null].includes(Object.getPrototypeOf(value) as object | null)

/**
 * Checks `changes` (1 to 1,000 of them, each with exactly its operation's keys, names of 1 to
 * 256 characters, `fields` a plain object); throws `INVALID_ARGUMENT` naming the first problem,
 * as `changes[<i>].<key>`. Field values are checked by the relay against the schema.
 */
export const checkRecordChanges = (changes: unknown): readonly RecordChange[] => {
  if (!Array.isArray(changes) || changes.length === 0 || changes.length > MAX_RECORD_CHANGES) {
    throw invalid('changes', `must be an array of 1 to ${MAX_RECORD_CHANGES} changes`)
  }
  changes.forEach((change: unknown, index) => {
    const where = `changes[${index}]`
    if (!isPlainObject(change)) throw invalid(where, 'must be an object')
    const op = change['op']
    if (typeof op !== 'string' || !Object.hasOwn(SHAPES, op)) {
      throw invalid(`${where}.op`, 'must be "create", "update", "delete", "restore" or "resolve"')
    }
    const [required, optional] = SHAPES[op as RecordChange['op']]
    for (const key of Object.keys(change)) {
      if (!required.includes(key) && !optional.includes(key)) {
        throw invalid(`${where}.${key}`, `is not a key of a "${op}" change`)
      }
    }
    for (const key of [...required, ...optional]) {
      const value = change[key]
      if (value === undefined && optional.includes(key)) continue
      if (value === undefined) throw invalid(`${where}.${key}`, 'is required')
      if (NAMES.has(key) && (typeof value !== 'string' || value.length < 1 || value.length > 256)) {
        throw invalid(`${where}.${key}`, 'must be a string of 1 to 256 characters')
      }
      if (key === 'fields' && !isPlainObject(value)) {
        throw invalid(`${where}.fields`, 'must be an object of field values')
      }
    }
  })
  return changes as readonly RecordChange[]
}

const invalid = (where: string, problem: string): WeftError =>
  new WeftError('INVALID_ARGUMENT', `${where} ${problem}`)
