// The task board's records: defined once, outside components (a new schema opens a new model).
import { defineSchema, field } from '@weft/doc'

export const STATUSES = ['todo', 'doing', 'done'] as const

export const boardSchema = defineSchema({
  version: 1,
  collections: {
    tasks: { title: field.string(), status: field.enum(STATUSES) },
  },
})
