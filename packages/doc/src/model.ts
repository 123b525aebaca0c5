/** The document model: typed collections of records over a Y.Doc, with a conflict journal. */
import { WeftError } from '@weft/protocol'
import * as Y from 'yjs'
import { checkValue, invalid, makeCollection, type Collection } from './collection.js'
import { encodeStamp, HybridClock } from './hlc.js'
import { toJsonValue, type StandingValueJson } from './json-value.js'
import { MigrationContext } from './migrations.js'
import { recordToJson, type RecordJson } from './record-json.js'
import { entriesOf, registerFields, writeEntry, type Entry } from './register.js'
import { SCHEMA_ROOT, type AnySchema, type Fields, type Schema } from './schema.js'

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

/** A conflict as JSON: {@link Conflict} with every value converted to JSON. */
export interface ConflictJson {
  readonly collection: string
  readonly id: string
  readonly field: string
  /** Every standing value, the winner first. */
  readonly values: readonly StandingValueJson[]
}

/** A model as JSON (what {@link Model.toJSON} returns). */
export interface ModelJson<C extends Readonly<Record<string, Fields>>> {
  /** The schema version stored in the document (0 before the first `migrate`). */
  readonly schemaVersion: number
  /** Each collection's records not deleted, in `list()` order (oldest first). */
  readonly collections: { readonly [K in keyof C & string]: RecordJson[] }
  /** Open conflicts, as `conflicts()` lists them. */
  readonly conflicts: ConflictJson[]
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
  /**
   * The document as JSON: the stored schema version, every collection's records that are not
   * deleted (`{ id, createdBy, createdAt, owner, ...fields }`, a text as its string, a list as
   * its items, a scalar as its winning value) in `list()` order, and the open conflicts.
   */
  toJSON(): ModelJson<C>
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
    toJSON: () => {
      const collections: Record<string, RecordJson[]> = {}
      for (const [name, fields] of Object.entries(schema.collections)) {
        const root = doc.getMap<Y.Map<unknown>>(name)
        const records = collectionOf(name)
          .list()
          .map(({ id }) => recordToJson(id, root.get(id) as Y.Map<unknown>, fields))
        Object.defineProperty(collections, name, { value: records, enumerable: true })
      }
      return {
        schemaVersion: storedVersion(),
        collections: collections as ModelJson<C>['collections'],
        conflicts: listConflicts(doc, schema, {}).map(conflictToJson),
      }
    },
  }
}

const conflictToJson = ({ collection, id, field, values }: Conflict): ConflictJson => ({
  collection,
  id,
  field,
  values: values.map(({ value, author, stamp }) => ({ value: toJsonValue(value), author, stamp })),
})

const recordMap = (doc: Y.Doc, collection: string, id: string): Y.Map<unknown> => {
  const record = doc.getMap<unknown>(collection).get(id)
  if (!(record instanceof Y.Map)) throw invalid(`${collection} has no record "${id}"`)
  return record
}

const listConflicts = (
  doc: Y.Doc,
  schema: AnySchema,
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
