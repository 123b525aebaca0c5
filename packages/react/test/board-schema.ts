/** The task board the hooks' tests share. */
import { defineSchema, field } from '@weft/doc'

/** Tasks with a title, a status and notes; people with a name. */
export const boardSchema = defineSchema({
  version: 1,
  collections: {
    tasks: {
      title: field.string(),
      status: field.enum(['todo', 'doing', 'done']),
      notes: field.text(),
    },
    people: { name: field.string() },
  },
})
