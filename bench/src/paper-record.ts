/** The record workload 13 replays the trace into: its schema, its place, and its text in a document. */
import { defineSchema, field, openModel, schemaToJson, type SchemaJson } from '@weft/doc'
import type * as Y from 'yjs'

/** One collection of papers, each with a title and a collaborative body. */
export const PAPER_SCHEMA = defineSchema({
  version: 1,
  collections: { papers: { title: field.string(), body: field.text() } },
})

/** The schema as the relay's `--schemas-file` takes it. */
export const PAPER_SCHEMA_JSON: SchemaJson = schemaToJson(PAPER_SCHEMA)

/** The record whose `body` receives the trace. */
export const PAPER_ID = 'automerge-paper'

/** Documents of this pattern have the schema (when the relay is given it). */
export const PAPER_DOC_PATTERN = 'papers/*'

/** The document the record lives in. */
export const PAPER_DOC = `papers/${PAPER_ID}`

/**
 * Creates the paper (empty body) through the model, as `author`: the document's schema version
 * first (`migrate`), then the record, each in its own transaction.
 */
export const createPaper = (doc: Y.Doc, author: string): void => {
  const model = openModel(doc, PAPER_SCHEMA, { author })
  model.migrate()
  const title = 'A Conflict-Free Replicated JSON Datatype'
  model.collection('papers').create({ title }, { id: PAPER_ID })
}

/** The paper's body in `doc`, or null while the document has no such record. */
export const paperBodyOf = (doc: Y.Doc): Y.Text | null => {
  const papers = openModel(doc, PAPER_SCHEMA, { author: 'bench-reader' }).collection('papers')
  return papers.get(PAPER_ID)?.body ?? null
}
