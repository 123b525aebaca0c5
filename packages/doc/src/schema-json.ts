/** Schemas as JSON: how a process without the app's code (a relay) learns a schema. */
import { WeftError } from '@weft/protocol'
import {
  defineSchema,
  field,
  type Field,
  type Fields,
  type ScalarField,
  type Schema,
  type AnySchema,
} from './schema.js'

/** A scalar field as JSON: a type name, or an object with the type and its options. */
export type ScalarFieldJson =
  | 'string'
  | 'number'
  | 'boolean'
  | { readonly type: 'string' | 'number' | 'boolean'; readonly nullable?: boolean }
  | { readonly type: 'enum'; readonly values: readonly string[]; readonly nullable?: boolean }
  | { readonly type: 'ref'; readonly collection: string; readonly nullable?: boolean }

/** A field as JSON: a scalar, a collaborative text, or a list of scalars. */
export type FieldJson =
  | ScalarFieldJson
  | 'text'
  | { readonly type: 'text' }
  | { readonly type: 'list'; readonly item: ScalarFieldJson }

/**
 * A schema as JSON: `{ "version": 1, "collections": { "tasks": { "title": "string", … } } }`.
 * Migrations are code and have no JSON form: a relay needs only the fields, to read and write
 * records and to describe their changes.
 */
export interface SchemaJson {
  readonly version: number
  readonly collections: {
    readonly [collection: string]: { readonly [field: string]: FieldJson }
  }
}

/** The options each field type takes, besides `type`. */
const OPTIONS: Readonly<Record<string, readonly string[]>> = {
  string: ['nullable'],
  number: ['nullable'],
  boolean: ['nullable'],
  enum: ['values', 'nullable'],
  ref: ['collection', 'nullable'],
  text: [],
  list: ['item'],
}

type Fail = (path: string, problem: string) => WeftError

/**
 * Reads a schema from its JSON form (see {@link SchemaJson}), through `defineSchema` and
 * `field`, so the rules are those of a schema defined in code. The result has no migrations.
 * Every problem (a wrong type, a missing or unknown key) throws `INVALID_ARGUMENT` naming its
 * path, for example `collections.tasks.status.values must be a non-empty list of strings`,
 * prefixed by `where` (say, the file's name) when given.
 */
export const schemaFromJson = (json: unknown, where?: string): Schema<Record<string, Fields>> => {
  const prefix = where === undefined ? '' : `${where}: `
  const fail: Fail = (path, problem) =>
    new WeftError('INVALID_ARGUMENT', `${prefix}${path} ${problem}`)
  const root = objectAt(json, 'the schema', 'must be an object', fail)
  allowOnly(root, ['version', 'collections'], '', 'a schema takes version, collections', fail)
  const collectionsJson = objectAt(
    root['collections'],
    'collections',
    'must be an object of collections',
    fail,
  )
  const collections = Object.fromEntries(
    Object.entries(collectionsJson).map(([collection, fieldsJson]) => {
      const path = `collections.${collection}`
      const fields = objectAt(fieldsJson, path, 'must be an object of fields', fail)
      const parsed = Object.entries(fields).map(
        ([name, spec]) => [name, fieldFromJson(spec, `${path}.${name}`, fail)] as const,
      )
      return [collection, Object.fromEntries(parsed) as Fields] as const
    }),
  )
  try {
    return defineSchema({ version: root['version'] as number, collections })
  } catch (error) {
    if (!(error instanceof WeftError)) throw error
    // A WeftError's message starts with its code, which the new error adds again.
    const message = error.message.replace(`${error.code}: `, '')
    throw new WeftError('INVALID_ARGUMENT', `${prefix}${message}`, { cause: error })
  }
}

/** The JSON form of `schema` (its migrations, which are code, are left out). */
export const schemaToJson = (schema: AnySchema): SchemaJson => ({
  version: schema.version,
  collections: Object.fromEntries(
    Object.entries(schema.collections).map(([collection, fields]) => [
      collection,
      Object.fromEntries(Object.entries(fields).map(([name, spec]) => [name, fieldToJson(spec)])),
    ]),
  ),
})

const fieldToJson = (spec: Field): FieldJson => {
  if (spec.kind === 'text') return 'text'
  if (spec.kind === 'list') return { type: 'list', item: scalarToJson(spec.item) }
  return scalarToJson(spec)
}

const scalarToJson = (spec: ScalarField<unknown, boolean>): ScalarFieldJson => {
  const nullable = spec.isNullable ? { nullable: true } : {}
  if (spec.type === 'enum') return { type: 'enum', values: [...(spec.values ?? [])], ...nullable }
  if (spec.type === 'ref') return { type: 'ref', collection: spec.collection ?? '', ...nullable }
  return spec.isNullable ? { type: spec.type, nullable: true } : spec.type
}

const fieldFromJson = (json: unknown, path: string, fail: Fail): Field => {
  const spec = typeof json === 'string' ? { type: json } : json
  const object = objectAt(spec, path, 'must be a type name or an object with a type', fail)
  const type = object['type']
  const options =
    typeof type === 'string' && Object.hasOwn(OPTIONS, type) ? OPTIONS[type] : undefined
  if (options === undefined) {
    throw fail(
      `${path}.type`,
      `must be one of ${Object.keys(OPTIONS).join(', ')} (got ${JSON.stringify(type) ?? 'nothing'})`,
    )
  }
  allowOnly(
    object,
    ['type', ...options],
    path,
    `a ${type} field takes ${options.join(', ') || 'no options'}`,
    fail,
  )
  if (type === 'text') return field.text()
  if (type === 'list') {
    const item = fieldFromJson(object['item'], `${path}.item`, fail)
    if (item.kind !== 'scalar') {
      throw fail(`${path}.item`, 'must be a scalar field (string, number, boolean, enum or ref)')
    }
    return field.list(item)
  }
  const scalar = scalarFromJson(object, type as string, path, fail)
  const nullable = object['nullable']
  if (nullable !== undefined && typeof nullable !== 'boolean') {
    throw fail(`${path}.nullable`, 'must be true or false')
  }
  return nullable === true ? scalar.nullable() : scalar
}

const scalarFromJson = (
  object: Readonly<Record<string, unknown>>,
  type: string,
  path: string,
  fail: Fail,
): ScalarField<unknown, boolean> => {
  if (type === 'enum') {
    const values = object['values']
    if (
      !Array.isArray(values) ||
      values.length === 0 ||
      !values.every((value) => typeof value === 'string')
    ) {
      throw fail(`${path}.values`, 'must be a non-empty list of strings')
    }
    return field.enum(values as string[])
  }
  if (type === 'ref') {
    const collection = object['collection']
    if (typeof collection !== 'string' || collection.length === 0) {
      throw fail(`${path}.collection`, 'must be the name of a collection (a non-empty string)')
    }
    return field.ref(collection)
  }
  return type === 'string' ? field.string() : type === 'number' ? field.number() : field.boolean()
}

/** `value` as a plain object (not an array, not null); throws naming `path` otherwise. */
const objectAt = (
  value: unknown,
  path: string,
  problem: string,
  fail: Fail,
): Readonly<Record<string, unknown>> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(path, problem)
  return value as Readonly<Record<string, unknown>>
}

/** Throws naming the first key of `object` that is not in `allowed`. */
const allowOnly = (
  object: Readonly<Record<string, unknown>>,
  allowed: readonly string[],
  path: string,
  takes: string,
  fail: Fail,
): void => {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      throw fail(path === '' ? key : `${path}.${key}`, `is not allowed (${takes})`)
    }
  }
}
