/** Migrations: deterministic, idempotent steps that bring a document to a schema version. */
import * as Y from 'yjs'
import { encodeStamp } from './hlc.js'
import { entriesOf, writeEntry } from './register.js'

/**
 * What a migration step may do. Its writes carry the step's own stamp and author (the same on
 * every replica), so two replicas that run a step concurrently write the same keys with the same
 * values: the document ends up identical, with no conflict between them. Write steps so that
 * running them twice changes nothing (`set` of a value computed from the record is).
 */
export class MigrationContext {
  readonly #doc: Y.Doc
  readonly #stamp: string
  readonly #author: string

  /** @internal Made by `Model.migrate` for the step to `version`. */
  constructor(doc: Y.Doc, version: number) {
    this.#doc = doc
    // Below any wall-clock stamp: a user's concurrent write to the same field wins.
    this.#stamp = encodeStamp(0, version)
    this.#author = `weft:migration:${version}`
  }

  /** Ids of the records of `collection` (deleted ones included), sorted. */
  ids(collection: string): string[] {
    return [...this.#doc.getMap<unknown>(collection).keys()].sort()
  }

  /** A scalar field's current value (the winner), or `undefined` when it was never written. */
  get(collection: string, id: string, field: string): unknown {
    const record = this.#record(collection, id)
    return record === null ? undefined : entriesOf(record, field)[0]?.value
  }

  /** Sets a scalar field, superseding what is there. */
  set(collection: string, id: string, field: string, value: unknown): void {
    const record = this.#record(collection, id)
    if (record === null) return
    const [current] = entriesOf(record, field)
    if (current !== undefined && current.stamp === this.#stamp && current.author === this.#author) {
      return // already done by this step
    }
    writeEntry(record, field, value, this.#stamp, this.#author)
  }

  /** Gives a record an empty collaborative text field if it has none. */
  ensureText(collection: string, id: string, field: string): void {
    const record = this.#record(collection, id)
    if (record !== null && !record.has(`~${field}`)) record.set(`~${field}`, new Y.Text())
  }

  /** Gives a record an empty collaborative list field if it has none. */
  ensureList(collection: string, id: string, field: string): void {
    const record = this.#record(collection, id)
    if (record !== null && !record.has(`~${field}`)) record.set(`~${field}`, new Y.Array())
  }

  #record(collection: string, id: string): Y.Map<unknown> | null {
    const record = this.#doc.getMap<unknown>(collection).get(id)
    return record instanceof Y.Map ? record : null
  }
}
