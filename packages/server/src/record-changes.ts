/**
 * Record changes: the JSON a backend posts to change records of a document with a schema, its
 * validation, and how each change becomes a document-model write (so it merges with concurrent
 * client edits like any CRDT edit).
 */
import type { Fields, Model } from '@weft/doc'
import { WeftError } from '@weft/protocol'
import * as Y from 'yjs'
import { z } from 'zod'
import { messageOf } from './http-support.js'

/** Most changes one request may carry. */
export const MAX_RECORD_CHANGES = 1000

const name = z.string().min(1).max(256)
const values = z.record(z.string(), z.unknown())

const change = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('create'),
    collection: name,
    id: name.optional(),
    fields: values,
  }),
  z.strictObject({ op: z.literal('update'), collection: name, id: name, fields: values }),
  z.strictObject({ op: z.literal('delete'), collection: name, id: name }),
  z.strictObject({ op: z.literal('restore'), collection: name, id: name }),
  z.strictObject({
    op: z.literal('resolve'),
    collection: name,
    id: name,
    field: name,
    value: z.unknown(),
  }),
])

const body = z.strictObject({ changes: z.array(change).min(1).max(MAX_RECORD_CHANGES) })

/** One change to a record (`create`, `update`, `delete`, `restore`, or `resolve` a conflict). */
export type RecordChange = z.infer<typeof change>

/** Validates a request body `{ changes: [...] }`; throws `INVALID_ARGUMENT` naming the problem. */
export const parseRecordChanges = (json: unknown): RecordChange[] => {
  const parsed = body.safeParse(json)
  if (parsed.success) return parsed.data.changes
  const issue = parsed.error.issues[0]
  const where = issue === undefined ? '' : issue.path.join('.')
  throw new WeftError(
    'INVALID_ARGUMENT',
    `${where === '' ? 'the body' : where}: ${issue?.message ?? 'invalid'}; send { "changes": [{ "op": "create" | "update" | "delete" | "restore" | "resolve", "collection", … }] }`,
  )
}

/**
 * Applies `changes` through `model`, in order (call it inside one transaction: any error leaves
 * the document unchanged). Returns the ids of created records. A record that does not exist is
 * `NOT_FOUND`; the model's own checks (field types, unknown fields) are `INVALID_ARGUMENT`.
 */
export const applyRecordChanges = (
  model: Model<Readonly<Record<string, Fields>>>,
  changes: readonly RecordChange[],
): string[] => {
  const created: string[] = []
  changes.forEach((each, index) => {
    try {
      const collection = model.collection(each.collection)
      if (each.op === 'create') {
        const options = each.id === undefined ? {} : { id: each.id }
        created.push(collection.create(each.fields as never, options).id)
        return
      }
      if (!(model.doc.getMap(each.collection).get(each.id) instanceof Y.Map)) {
        throw new WeftError('NOT_FOUND', `${each.collection} has no record "${each.id}"`)
      }
      if (each.op === 'update') collection.update(each.id, each.fields as never)
      else if (each.op === 'delete') collection.delete(each.id)
      else if (each.op === 'restore') collection.restore(each.id)
      else
        model.resolve({ collection: each.collection, id: each.id, field: each.field }, each.value)
    } catch (error) {
      if (!(error instanceof WeftError)) throw error
      throw new WeftError(error.code, `changes[${index}]: ${messageOf(error)}`, { cause: error })
    }
  })
  return created
}
