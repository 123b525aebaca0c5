/** The document model: typed collections of records over a Y.Doc, with a conflict journal. */
import { WeftError } from '@weft/protocol'
import * as Y from 'yjs'
import { encodeStamp, HybridClock } from './hlc.js'
import { MigrationContext } from './migrations.js'
import { entriesOf, registerFields, writeEntry, type Entry } from './register.js'
import type { CreateInput, Fields, RecordOf, ScalarField, Schema, UpdateInput } from './schema.js'

/** Where the document's schema version lives. */
const SCHEMA_ROOT = 'weft:schema'
const DELETED = '@deleted'
const OWNER = '@owner'

/** A field with more than one standing value: concurrent writes nobody has resolved yet. */
export interface Conflict {
  readonly collection: string
  readonly id: string
  readonly field: string
  /** Every standing value, the winner (what reads return) first. */
  readonly values: readonly Entry[]
}

/**
 * Whether this app may write the document: read-only when a breaking migration brought it to a
 * schema version this app does not have.
 */
export type ModelStatus =
  | {
      readonly mode: 'writable'
      readonly storedVersion: number
      readonly pendingMigrations: number
    }
  | { readonly mode: 'read-only'; readonly storedVersion: number; readonly reason: string }

/** Options of {@link openModel}. */
export interface ModelOptions {
  /** Who writes: recorded with each value and as `createdBy`/`owner` (for example a user id). */
  readonly author: string
  /** Clock for stamps and `createdAt` (tests inject skewed ones). Default: a HybridClock on `Date.now`. */
  readonly clock?: HybridClock
  /** Record id generator. Default: `crypto.randomUUID`. */
  readonly newId?: () => string
}

/** One collection of typed records. */
export interface Collection<S extends Fields> {
  /** Creates a record (id generated on this device); returns it. */
  create(input: CreateInput<S>): RecordOf<S>
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
  /** Whether the record exists and is deleted. */
  isDeleted(id: string): boolean
  /** Calls `listener` after every change to this collection, local or remote; returns `off`. */
  observe(listener: () => void): () => void
}

/** The model of one document. */
export interface Model<C extends Readonly<Record<string, Fields>>> {
  readonly doc: Y.Doc
  readonly status: ModelStatus
  collection<K extends keyof C & string>(name: K): Collection<C[K]>
  /** Open conflicts, optionally only of one collection, record or field. */
  conflicts(filter?: { collection?: string; id?: string; field?: string }): Conflict[]
  /** Resolves a conflict by writing `value`, which supersedes every competing value everywhere. */
  resolve(conflict: { collection: string; id: string; field: string }, value: unknown): void
  /** Runs the schema's pending migrations (idempotent; safe on several replicas at once). */
  migrate(): void
}

/**
 * Opens the model of `doc` for `schema`. Call `migrate()` once the document has synced (and for
 * a new document) to bring it to the schema's version.
 */
export const openModel = <C extends Readonly<Record<string, Fields>>>(
  doc: Y.Doc,
  schema: Schema<C>,
  options: ModelOptions,
): Model<C> => {
  if (!(doc instanceof Y.Doc)) throw invalid('openModel needs a Y.Doc')
  if (typeof options?.author !== 'string' || options.author.length === 0) {
    throw invalid('options.author must be a non-empty string')
  }
  const author = options.author
  const clock = options.clock ?? new HybridClock()
  const newId = options.newId ?? (() => globalThis.crypto.randomUUID())
  const meta = doc.getMap<unknown>(SCHEMA_ROOT)

  const storedVersion = (): number => {
    const [winner] = entriesOf(meta, 'version')
    return typeof winner?.value === 'number' ? winner.value : 0
  }
  const minWriterVersion = (): number => {
    const [winner] = entriesOf(meta, 'minWriter')
    return typeof winner?.value === 'number' ? winner.value : 0
  }
  const status = (): ModelStatus => {
    const stored = storedVersion()
    const needed = minWriterVersion()
    if (needed > schema.version) {
      return {
        mode: 'read-only',
        storedVersion: stored,
        reason: `the document needs schema version ${needed} or later to be edited (this app has ${schema.version}): upgrade the app`,
      }
    }
    const pendingMigrations = schema.migrations.filter(
      (step) => step.version > stored && step.version <= schema.version,
    ).length
    return { mode: 'writable', storedVersion: stored, pendingMigrations }
  }
  const assertWritable = (): void => {
    const current = status()
    if (current.mode === 'read-only') throw new WeftError('FORBIDDEN', current.reason)
  }
  const write = (record: Y.Map<unknown>, field: string, value: unknown): void => {
    for (const entry of entriesOf(record, field)) clock.observe(entry.stamp)
    writeEntry(record, field, value, clock.next(), author)
  }

  const collections = new Map<string, Collection<Fields>>()
  const collectionOf = (name: string): Collection<Fields> => {
    const fields = schema.collections[name]
    if (fields === undefined) throw invalid(`the schema has no collection "${name}"`)
    let collection = collections.get(name)
    if (collection === undefined) {
      collection = makeCollection(doc, name, fields, {
        author,
        newId,
        now: () => clock.wallMs(),
        write,
        assertWritable,
      })
      collections.set(name, collection)
    }
    return collection
  }

  return {
    doc,
    get status() {
      return status()
    },
    collection: (name) => collectionOf(name) as never,
    conflicts: (filter = {}) => listConflicts(doc, schema, filter),
    resolve: (target, value) => {
      assertWritable()
      const record = recordMap(doc, target.collection, target.id)
      const fields = schema.collections[target.collection]
      const spec = fields?.[target.field]
      if (spec !== undefined && spec.kind === 'scalar') checkValue(target, spec, value)
      doc.transact(() => write(record, target.field, value))
    },
    migrate: () => {
      assertWritable()
      const from = storedVersion()
      doc.transact(() => {
        for (const step of schema.migrations) {
          if (step.version <= from || step.version > schema.version) continue
          step.up(new MigrationContext(doc, step.version))
        }
        // Every replica writes the same keys for a version: concurrent migrations agree.
        if (from < schema.version) {
          const stamp = encodeStamp(0, schema.version)
          writeEntry(meta, 'version', schema.version, stamp, 'weft:schema')
          const breaking = schema.migrations
            .filter((step) => step.breaking === true && step.version <= schema.version)
            .reduce((highest, step) => Math.max(highest, step.version), minWriterVersion())
          if (breaking > minWriterVersion())
            writeEntry(meta, 'minWriter', breaking, stamp, 'weft:schema')
        }
      })
    },
  }
}

interface CollectionContext {
  readonly author: string
  readonly newId: () => string
  /** Wall milliseconds for `createdAt`, from the model's clock. */
  readonly now: () => number
  readonly write: (record: Y.Map<unknown>, field: string, value: unknown) => void
  readonly assertWritable: () => void
}

const makeCollection = (
  doc: Y.Doc,
  name: string,
  fields: Fields,
  context: CollectionContext,
): Collection<Fields> => {
  const root = doc.getMap<Y.Map<unknown>>(name)
  const read = (id: string, record: Y.Map<unknown>): RecordOf<Fields> => {
    const value: Record<string, unknown> = {
      id,
      createdBy: record.get('@createdBy'),
      createdAt: record.get('@createdAt'),
      owner: entriesOf(record, OWNER)[0]?.value ?? record.get('@createdBy'),
    }
    for (const [field, spec] of Object.entries(fields)) {
      value[field] =
        spec.kind === 'scalar'
          ? (entriesOf(record, field)[0]?.value ?? null)
          : (record.get(`~${field}`) ?? null)
    }
    return value as RecordOf<Fields>
  }
  const deleted = (record: Y.Map<unknown>): boolean => entriesOf(record, DELETED)[0]?.value === true
  const existing = (id: string): Y.Map<unknown> => {
    const record = root.get(id)
    if (!(record instanceof Y.Map)) throw invalid(`${name} has no record "${id}"`)
    return record
  }
  return {
    create: (input) => {
      context.assertWritable()
      const id = context.newId()
      const values = input as Record<string, unknown>
      for (const [field, spec] of Object.entries(fields)) {
        const given = values[field]
        if (spec.kind === 'scalar') {
          if (given === undefined && spec.isNullable) continue
          checkValue({ collection: name, id, field }, spec, given)
        } else if (spec.kind === 'text' && given !== undefined && typeof given !== 'string') {
          throw invalid(`${name}.${field} of "${id}" must be a string (the text's initial content)`)
        } else if (spec.kind === 'list' && given !== undefined) {
          if (!Array.isArray(given)) throw invalid(`${name}.${field} of "${id}" must be a list`)
          for (const item of given) checkValue({ collection: name, id, field }, spec.item, item)
        }
      }
      doc.transact(() => {
        const record = new Y.Map<unknown>()
        root.set(id, record)
        record.set('@createdBy', context.author)
        record.set('@createdAt', context.now())
        for (const [field, spec] of Object.entries(fields)) {
          const given = values[field]
          if (spec.kind === 'scalar')
            context.write(record, field, given === undefined ? null : given)
          else if (spec.kind === 'text')
            record.set(`~${field}`, new Y.Text((given as string | undefined) ?? ''))
          else record.set(`~${field}`, Y.Array.from((given as never[] | undefined) ?? []))
        }
      })
      return read(id, root.get(id) as Y.Map<unknown>)
    },
    get: (id) => {
      const record = root.get(id)
      return record instanceof Y.Map && !deleted(record) ? read(id, record) : null
    },
    list: () =>
      [...root.entries()]
        .filter(([, record]) => record instanceof Y.Map && !deleted(record))
        .map(([id, record]) => read(id, record))
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)),
    update: (id, patch) => {
      context.assertWritable()
      const record = existing(id)
      if (deleted(record)) throw invalid(`${name} "${id}" is deleted; restore it before editing`)
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
      doc.transact(() => context.write(record, DELETED, true))
    },
    restore: (id) => {
      context.assertWritable()
      const record = existing(id)
      doc.transact(() => context.write(record, DELETED, false))
    },
    isDeleted: (id) => {
      const record = root.get(id)
      return record instanceof Y.Map && deleted(record)
    },
    observe: (listener) => {
      const handler = (): void => listener()
      root.observeDeep(handler)
      return () => root.unobserveDeep(handler)
    },
  }
}

const recordMap = (doc: Y.Doc, collection: string, id: string): Y.Map<unknown> => {
  const record = doc.getMap<unknown>(collection).get(id)
  if (!(record instanceof Y.Map)) throw invalid(`${collection} has no record "${id}"`)
  return record
}

const listConflicts = (
  doc: Y.Doc,
  schema: Schema<Readonly<Record<string, Fields>>>,
  filter: { collection?: string; id?: string; field?: string },
): Conflict[] => {
  const conflicts: Conflict[] = []
  for (const collection of Object.keys(schema.collections).sort()) {
    if (filter.collection !== undefined && filter.collection !== collection) continue
    const root = doc.getMap<unknown>(collection)
    for (const id of [...root.keys()].sort()) {
      if (filter.id !== undefined && filter.id !== id) continue
      const record = root.get(id)
      if (!(record instanceof Y.Map)) continue
      for (const field of [...registerFields(record)].sort()) {
        if (filter.field !== undefined && filter.field !== field) continue
        const values = entriesOf(record, field)
        if (values.length > 1) conflicts.push({ collection, id, field, values })
      }
    }
  }
  return conflicts
}

const checkValue = (
  where: { collection: string; id: string; field: string },
  spec: ScalarField<unknown, boolean>,
  value: unknown,
): void => {
  const problem = spec.check(value)
  if (problem !== undefined) {
    throw invalid(`${where.collection}.${where.field} of record "${where.id}" ${problem}`)
  }
}

const invalid = (message: string): WeftError => new WeftError('INVALID_ARGUMENT', message)
