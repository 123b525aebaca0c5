/** Schemas: collections of records with typed fields, their static types and their validation. */
import { WeftError } from '@weft/protocol'
import type * as Y from 'yjs'

/** A field whose value is one JSON scalar, written whole (last writer wins, with a journal). */
export interface ScalarField<T, Nullable extends boolean = false> {
  readonly kind: 'scalar'
  readonly type: 'string' | 'number' | 'boolean' | 'enum' | 'ref'
  readonly isNullable: Nullable
  /** Enum values, or the collection a reference points into. */
  readonly values?: readonly string[]
  readonly collection?: string
  /** Returns a problem with `value`, or `undefined` when it fits. */
  check(value: unknown): string | undefined
  /** The same field, also accepting `null` (distinct from deleting the record). */
  nullable(): ScalarField<T, true>
  /** Phantom type carrier. */
  readonly _type?: T
}

/** A collaborative text (`Y.Text`): merged character by character, never in conflict. */
export interface TextField {
  readonly kind: 'text'
}

/** A collaborative list (`Y.Array`) of scalars. */
export interface ListField<T> {
  readonly kind: 'list'
  readonly item: ScalarField<T, boolean>
}

export type Field = ScalarField<unknown, boolean> | TextField | ListField<unknown>
export type Fields = Readonly<Record<string, Field>>

/** The value a field reads as. */
export type ValueOf<F> = F extends TextField
  ? Y.Text
  : F extends ListField<infer T>
    ? Y.Array<T>
    : F extends ScalarField<infer T, infer N>
      ? N extends true
        ? T | null
        : T
      : never

/** What a field takes when a record is created. */
export type InputOf<F> = F extends TextField
  ? string
  : F extends ListField<infer T>
    ? T[]
    : F extends ScalarField<infer T, infer N>
      ? N extends true
        ? T | null
        : T
      : never

/** The fields a scalar update may set. */
export type ScalarKeys<S extends Fields> = {
  [K in keyof S]: S[K] extends ScalarField<unknown, boolean> ? K : never
}[keyof S]

/** A record as read: its id, ownership metadata and typed fields. */
export type RecordOf<S extends Fields> = {
  readonly id: string
  readonly createdBy: string
  readonly createdAt: number
  readonly owner: string
} & { readonly [K in keyof S]: ValueOf<S[K]> }

/** What `create` takes: every scalar field (nullable ones may be left out), text and lists optional. */
export type CreateInput<S extends Fields> = {
  [K in keyof S as S[K] extends ScalarField<unknown, false> ? K : never]: InputOf<S[K]>
} & {
  [K in keyof S as S[K] extends ScalarField<unknown, false> ? never : K]?: InputOf<S[K]>
}

/** What `update` takes: scalar fields to set. */
export type UpdateInput<S extends Fields> = { [K in ScalarKeys<S>]?: InputOf<S[K]> }

/** A migration step to `version`: deterministic and idempotent (see `MigrationContext`). */
export interface Migration {
  readonly version: number
  /**
   * True when apps on an older schema could corrupt data by writing after this step (a field
   * changes meaning or type). They then open the document read-only. Additive steps (new
   * fields) leave older apps writable: they keep fields they do not know.
   */
  readonly breaking?: boolean
  readonly up: (context: import('./migrations.js').MigrationContext) => void
}

/** A document schema. */
export interface Schema<C extends Readonly<Record<string, Fields>>> {
  readonly version: number
  readonly collections: C
  readonly migrations: readonly Migration[]
}

/** A schema of any collections: what code that handles every document's schema takes. */
export type AnySchema = Schema<Readonly<Record<string, Fields>>>

const scalar = <T>(
  type: ScalarField<T>['type'],
  test: (value: unknown) => string | undefined,
  extra: { values?: readonly string[]; collection?: string } = {},
  nullable = false,
): ScalarField<T, boolean> => ({
  kind: 'scalar',
  type,
  isNullable: nullable,
  ...extra,
  check: (value) => (value === null ? (nullable ? undefined : 'may not be null') : test(value)),
  nullable: () => scalar<T>(type, test, extra, true) as ScalarField<T, true>,
})

/** Field builders. */
export const field = {
  string: (): ScalarField<string> =>
    scalar('string', (value) =>
      typeof value === 'string' ? undefined : 'must be a string',
    ) as ScalarField<string>,
  number: (): ScalarField<number> =>
    scalar('number', (value) =>
      typeof value === 'number' && Number.isFinite(value) ? undefined : 'must be a finite number',
    ) as ScalarField<number>,
  boolean: (): ScalarField<boolean> =>
    scalar('boolean', (value) =>
      typeof value === 'boolean' ? undefined : 'must be true or false',
    ) as ScalarField<boolean>,
  enum: <const V extends readonly string[]>(values: V): ScalarField<V[number]> =>
    scalar(
      'enum',
      (value) =>
        typeof value === 'string' && values.includes(value)
          ? undefined
          : `must be one of ${values.map((each) => JSON.stringify(each)).join(', ')}`,
      { values },
    ) as ScalarField<V[number]>,
  /** The id of a record in `collection` (not checked to exist: it may arrive later). */
  ref: (collection: string): ScalarField<string> =>
    scalar(
      'ref',
      (value) =>
        typeof value === 'string' && value.length > 0 ? undefined : 'must be a record id',
      { collection },
    ) as ScalarField<string>,
  text: (): TextField => ({ kind: 'text' }),
  list: <T>(item: ScalarField<T, boolean>): ListField<T> => ({ kind: 'list', item }),
}

/** The root map where a document stores its schema version (registers `version`, `minWriter`). */
export const SCHEMA_ROOT = 'weft:schema'

/** Names reserved for metadata inside a record. */
export const RESERVED_FIELDS = new Set(['id', 'createdBy', 'createdAt', 'owner'])

/**
 * Defines a document schema: `version` (stored in the document) and collections of typed fields.
 * Collection names become the document's root types (what a token's `types` scope names).
 */
export const defineSchema = <const C extends Readonly<Record<string, Fields>>>(definition: {
  version: number
  collections: C
  migrations?: readonly Migration[]
}): Schema<C> => {
  if (!Number.isSafeInteger(definition.version) || definition.version < 1) {
    throw new WeftError('INVALID_ARGUMENT', 'the schema version must be a positive integer')
  }
  for (const [collection, fields] of Object.entries(definition.collections)) {
    if (collection.length === 0 || collection.startsWith('weft:')) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `collection name "${collection}" is empty or reserved`,
      )
    }
    for (const name of Object.keys(fields)) {
      if (
        RESERVED_FIELDS.has(name) ||
        name.includes('|') ||
        name.startsWith('@') ||
        name.startsWith('~')
      ) {
        throw new WeftError('INVALID_ARGUMENT', `field name "${collection}.${name}" is reserved`)
      }
    }
  }
  const migrations = [...(definition.migrations ?? [])].sort((a, b) => a.version - b.version)
  return { version: definition.version, collections: definition.collections, migrations }
}
