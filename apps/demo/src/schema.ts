/** The demo's document schema: a task board (the note is a plain Y.Text named `note`). */
import { defineSchema, field } from '@weft/doc'

export const boardSchema = defineSchema({
  version: 1,
  collections: {
    tasks: {
      title: field.string(),
      status: field.enum(['todo', 'doing', 'done']),
    },
  },
})

export type TaskStatus = 'todo' | 'doing' | 'done'
