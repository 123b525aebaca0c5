/** One collection of a model: typed records in a root `Y.Map`, validated before every write. */
import { WeftError } from '@weft/protocol'
import * as Y from 'yjs'
import {
  CREATED_AT_KEY,
  CREATED_BY_KEY,
  DELETED_KEY,
  isDeletedRecord,
  OWNER_KEY,
  SEQUENCE_PREFIX,
} from './record-json.js'
import { entriesOf } from './register.js'
import type { CreateInput, Fields, RecordOf, ScalarField, UpdateInput } from './schema.js'

/** Longest record id `create` accepts, in UTF-16 code units. */
export const MAX_ID_LENGTH = 256

/** Options of {@link Collection.create}. */
export interface CreateOptions {
  /**
   * The record's id, instead of a generated one: a non-empty string of at most 256 characters
   * without control characters. Creating an id that exists (deleted or not) throws
   * `ALREADY_EXISTS` and changes nothing, which makes a retried create idempotent.
   */
  readonly id?: string
}

/** One collection of typed records. */
export interface Collection<S extends Fields> {
  /**
   * Creates a record and returns it. Its id is generated on this device unless `options.id`
   * gives one; an id that exists already throws `ALREADY_EXISTS` (nothing is written).
   */
  create(input: CreateInput<S>, options?: CreateOptions): RecordOf<S>
  /** The record, or `null` if there is none or it is deleted. */
  get(id: string): RecordOf<S> | null
  /** Every record not deleted, oldest first. */
  list(): Array<RecordOf<S>>
  /** Sets scalar fields; `null` is a value (for nullable fields), not a deletion. */
  update(id: string, patch: UpdateInput<S>): void
  /** Deletes the record; it stays deleted whatever concurrent edits say, until `restore`. */
  delete(id: string): void
  /** Undoes a deletion. */
  restore(id: string): void
  /**
   * Gives the record another owner (`owner` as read; `createdBy` never changes). A relay with
   * record rules may allow this to some writers only (`ownerChange`).
   */
  setOwner(id: string, owner: string): void
  /** Whether the record exists and is deleted. */
  isDeleted(id: string): boolean
  /** Calls `listener` after every change to this collection, local or remote; returns `off`. */
  observe(listener: () => void): () => void
}

/** What a collection needs from its model. */
export interface CollectionContext {
  readonly author: string
  readonly newId: () => string
  /** Wall milliseconds for `createdAt`, from the model's clock. */
  readonly now: () => number
  readonly write: (record: Y.Map<unknown>, field: string, value: unknown) => void
  readonly assertWritable: () => void
}

/** The collection `name` of `doc`, with `fields`; made once per model and name. */
export const makeCollection = (
  doc: Y.Doc,
  name: string,
  fields: Fields,
  context: CollectionContext,
): Collection<Fields> => {
  const root = doc.getMap<Y.Map<unknown>>(name)
  const read = (id: string, record: Y.Map<unknown>): RecordOf<Fields> => {
    const value: Record<string, unknown> = {
      id,
      createdBy: record.get(CREATED_BY_KEY),
      createdAt: record.get(CREATED_AT_KEY),
      owner: entriesOf(record, OWNER_KEY)[0]?.value ?? record.get(CREATED_BY_KEY),
    }
    for (const [field, spec] of Object.entries(fields)) {
      value[field] =
        spec.kind === 'scalar'
          ? (entriesOf(record, field)[0]?.value ?? null)
          : (record.get(`${SEQUENCE_PREFIX}${field}`) ?? null)
    }
    return value as RecordOf<Fields>
  }
  const existing = (id: string): Y.Map<unknown> => {
    const record = root.get(id)
    if (!(record instanceof Y.Map)) throw invalid(`${name} has no record "${id}"`)
    return record
  }
  return {
    create: (input, options = {}) => {
      context.assertWritable()
      const id = options.id === undefined ? context.newId() : checkId(name, options.id)
      // Any value under the key counts: a create never overwrites.
      if (root.has(id)) {
        throw new WeftError('ALREADY_EXISTS', `${name} already has a record "${id}"`)
      }
      checkInput(name, id, fields, input as Record<string, unknown>)
      doc.transact(() => {
        const record = new Y.Map<unknown>()
        root.set(id, record)
        record.set(CREATED_BY_KEY, context.author)
        record.set(CREATED_AT_KEY, context.now())
        for (const [field, spec] of Object.entries(fields)) {
          const given = (input as Record<string, unknown>)[field]
          if (spec.kind === 'scalar')
            context.write(record, field, given === undefined ? null : given)
          else if (spec.kind === 'text')
            record.set(
              `${SEQUENCE_PREFIX}${field}`,
              new Y.Text((given as string | undefined) ?? ''),
            )
          else
            record.set(
              `${SEQUENCE_PREFIX}${field}`,
              Y.Array.from((given as never[] | undefined) ?? []),
            )
        }
      })
      return read(id, root.get(id) as Y.Map<unknown>)
    },
    get: (id) => {
      const record = root.get(id)
      return record instanceof Y.Map && !isDeletedRecord(record) ? read(id, record) : null
    },
    list: () =>
      [...root.entries()]
        .filter(([, record]) => record instanceof Y.Map && !isDeletedRecord(record))
        .map(([id, record]) => read(id, record))
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)),
    update: (id, patch) => {
      context.assertWritable()
      const record = existing(id)
      if (isDeletedRecord(record)) {
        throw invalid(`${name} "${id}" is deleted; restore it before editing`)
      }
      const changes = Object.entries(patch as Record<string, unknown>)
      for (const [field, value] of changes) {
        const spec = fields[field]
        if (spec === undefined || spec.kind !== 'scalar') {
          throw invalid(`${name} has no scalar field "${field}" (record "${id}")`)
        }
        checkValue({ collection: name, id, field }, spec, value)
      }
      doc.transact(() => {
        for (const [field, value] of changes) context.write(record, field, value)
      })
    },
    delete: (id) => {
      context.assertWritable()
      const record = existing(id)
      doc.transact(() => context.write(record, DELETED_KEY, true))
    },
    restore: (id) => {
      context.assertWritable()
      const record = existing(id)
      doc.transact(() => context.write(record, DELETED_KEY, false))
    },
    setOwner: (id, owner) => {
      context.assertWritable()
      const record = existing(id)
      if (typeof owner !== 'string' || owner.length === 0) {
        throw invalid(`the owner of ${name} "${id}" must be a non-empty string`)
      }
      doc.transact(() => context.write(record, OWNER_KEY, owner))
    },
    isDeleted: (id) => {
      const record = root.get(id)
      return record instanceof Y.Map && isDeletedRecord(record)
    },
    observe: (listener) => {
      const handler = (): void => listener()
      root.observeDeep(handler)
      return () => root.unobserveDeep(handler)
    },
  }
}

/** `id` when it may name a record of `collection`; throws `INVALID_ARGUMENT` otherwise. */
const checkId = (collection: string, id: unknown): string => {
  if (
    typeof id !== 'string' ||
    id.length === 0 ||
    id.length > MAX_ID_LENGTH ||
    // Control characters (C0, DEL, C1) would corrupt logs and headers the id ends up in.
    /[\u0000-\u001f\u007f-\u009f]/.test(id)
  ) {
    throw invalid(
      `the id of a new ${collection} record must be a non-empty string of at most ${MAX_ID_LENGTH} characters without control characters`,
    )
  }
  return id
}

/** Checks every field of a new record's input; throws `INVALID_ARGUMENT` naming the first bad one. */
const checkInput = (
  collection: string,
  id: string,
  fields: Fields,
  values: Record<string, unknown>,
): void => {
  for (const [field, spec] of Object.entries(fields)) {
    const given = values[field]
    if (spec.kind === 'scalar') {
      if (given === undefined && spec.isNullable) continue
      checkValue({ collection, id, field }, spec, given)
    } else if (spec.kind === 'text' && given !== undefined && typeof given !== 'string') {
      throw invalid(
        `${collection}.${field} of "${id}" must be a string (the text's initial content)`,
      )
    } else if (spec.kind === 'list' && given !== undefined) {
      if (!Array.isArray(given)) throw invalid(`${collection}.${field} of "${id}" must be a list`)
      for (const item of given) checkValue({ collection, id, field }, spec.item, item)
    }
  }
}

/** Throws `INVALID_ARGUMENT` naming the record and field when `value` does not fit `spec`. */
export const checkValue = (
  where: { collection: string; id: string; field: string },
  spec: ScalarField<unknown, boolean>,
  value: unknown,
): void => {
  const problem = spec.check(value)
  if (problem !== undefined) {
    throw invalid(`${where.collection}.${where.field} of record "${where.id}" ${problem}`)
  }
}

/** An `INVALID_ARGUMENT` error with `message`. */
export const invalid = (message: string): WeftError => new WeftError('INVALID_ARGUMENT', message)
