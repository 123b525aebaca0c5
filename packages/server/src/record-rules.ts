/**
 * Record rules: who may create, update, delete and give away the records of a collection, decided
 * on the relay from the token's subject and roles and the record's ownership as stored.
 */
import type { AnySchema, RecordWrite } from '@weft/doc'
import { WeftError } from '@weft/protocol'
import { z } from 'zod'

/**
 * Who may do something to a record: `scope` (anyone whose token may write the collection),
 * `owner` (the record's owner, see `ownerField`), `nobody`, `{ role }` (a token with that role in
 * `weft.roles`), or a list of these (any of them).
 */
export type RecordRule =
  'scope' | 'owner' | 'nobody' | { readonly role: string } | readonly RecordRule[]

/** The rules of one collection. Every action left out is allowed to `scope`, but `ownerChange`. */
export interface CollectionRules {
  /**
   * Creating a record. Its `createdBy` must be the writer's subject (and, in every write to a
   * collection with rules, the author of each value). Default `scope`.
   */
  readonly create?: RecordRule
  /** Writing its fields (scalars, text, lists). Default `scope`. */
  readonly update?: RecordRule
  /** Deleting or restoring it (its deletion flag). Default: as `update`. */
  readonly delete?: RecordRule
  /** Changing its `owner`. Default `nobody`. */
  readonly ownerChange?: RecordRule
  /**
   * Whom `owner` means: `owner` (the record's `owner`, its creator until changed) or `createdBy`
   * (always its creator). Default `owner`.
   */
  readonly ownerField?: 'owner' | 'createdBy'
}

/** Rules by collection name; collections without an entry are governed by scopes alone. */
export type RecordRules = Readonly<Record<string, CollectionRules>>

/** Who writes, for the rules: a verified token's subject and roles. */
export interface RecordWriter {
  readonly subject: string
  readonly roles: readonly string[]
}

const rule: z.ZodType<RecordRule> = z.lazy(() =>
  z.union([
    z.enum(['scope', 'owner', 'nobody']),
    z.strictObject({ role: z.string().min(1) }),
    z.array(rule).min(1),
  ]),
)

const collectionRules = z.strictObject({
  create: rule.optional(),
  update: rule.optional(),
  delete: rule.optional(),
  ownerChange: rule.optional(),
  ownerField: z.enum(['owner', 'createdBy']).optional(),
})

/**
 * Checks rules given as data (relay options or a schemas file) against `schema`; throws
 * `INVALID_ARGUMENT` naming `where` and the bad entry. Rules for a collection the schema does not
 * have are refused: they would protect nothing.
 */
export const parseRecordRules = (value: unknown, schema: AnySchema, where: string): RecordRules => {
  const parsed = z.record(z.string(), collectionRules).safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = issue?.path.join('.') ?? ''
    throw new WeftError(
      'INVALID_ARGUMENT',
      `${where}${path === '' ? '' : `.${path}`}: ${issue?.message ?? 'invalid'}; a collection's rules are { create?, update?, delete?, ownerChange?, ownerField? }, each rule "scope", "owner", "nobody", { "role": "…" } or a list of these`,
    )
  }
  for (const collection of Object.keys(parsed.data)) {
    if (schema.collections[collection] === undefined) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `${where}.${collection}: the schema has no collection "${collection}"`,
      )
    }
  }
  return parsed.data as RecordRules
}

/**
 * Why `writer` may not make `write` under `rules`, as a `FORBIDDEN` error naming the record and
 * what was refused, or `undefined` when it may. Ownership is the record's as stored before the
 * update, so an edit made offline is judged by who owns the record when it arrives.
 */
export const recordWriteDenied = (
  rules: RecordRules,
  write: RecordWrite,
  writer: RecordWriter,
): WeftError | undefined => {
  const collectionRule = rules[write.collection]
  if (collectionRule === undefined) return undefined
  const owner = collectionRule.ownerField === 'createdBy' ? write.createdBy : write.owner
  const allows = (given: RecordRule): boolean => permits(given, owner, writer)
  const where = `${write.collection} record "${write.id}"`
  const refuse = (action: string, given: RecordRule): WeftError =>
    new WeftError(
      'FORBIDDEN',
      `${where}: ${action} is allowed to ${describe(given)}, and ${writer.subject} is not (${ownerText(owner)}); the edit was not applied`,
    )
  if (write.created && write.createdBy !== writer.subject) {
    return new WeftError(
      'FORBIDDEN',
      `${where}: createdBy must be the writer's subject ${JSON.stringify(writer.subject)} (got ${JSON.stringify(write.createdBy)})`,
    )
  }
  for (const author of write.authors) {
    // Migration steps write under their own name, with a stamp below any user's.
    if (author !== writer.subject && !MIGRATION_AUTHOR.test(author)) {
      return new WeftError(
        'FORBIDDEN',
        `${where}: values must be written as the writer's subject ${JSON.stringify(writer.subject)} (got ${JSON.stringify(author)})`,
      )
    }
  }
  if (write.created) {
    const create = collectionRule.create ?? 'scope'
    if (!allows(create)) return refuse('creating it', create)
    const givesAway = write.newOwners.some((next) => next !== writer.subject)
    const ownerChange = collectionRule.ownerChange ?? 'nobody'
    if (givesAway && !allows(ownerChange)) return refuse('giving it another owner', ownerChange)
    return undefined
  }
  const update = collectionRule.update ?? 'scope'
  if (write.fields.size > 0 && !allows(update)) {
    return refuse(`writing ${[...write.fields].sort().join(', ')}`, update)
  }
  const deletion = collectionRule.delete ?? update
  if (write.deletion && !allows(deletion)) return refuse('deleting or restoring it', deletion)
  const ownerChange = collectionRule.ownerChange ?? 'nobody'
  if (write.ownerChange && !allows(ownerChange)) return refuse('changing its owner', ownerChange)
  return undefined
}

/** The author a model's migration step writes as (`weft:migration:<version>`). */
const MIGRATION_AUTHOR = /^weft:migration:\d+$/

const permits = (given: RecordRule, owner: string | null, writer: RecordWriter): boolean => {
  if (Array.isArray(given)) return given.some((each: RecordRule) => permits(each, owner, writer))
  if (given === 'scope') return true
  if (given === 'nobody') return false
  if (given === 'owner') return owner !== null && owner === writer.subject
  return writer.roles.includes((given as { role: string }).role)
}

const describe = (given: RecordRule): string => {
  if (Array.isArray(given)) return given.map((each: RecordRule) => describe(each)).join(' or ')
  if (given === 'scope') return 'any writer'
  if (given === 'owner') return 'its owner'
  if (given === 'nobody') return 'nobody'
  return `role "${(given as { role: string }).role}"`
}

const ownerText = (owner: string | null): string =>
  owner === null ? 'the record has no owner' : `its owner is ${owner}`
