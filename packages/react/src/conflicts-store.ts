/**
 * ConflictsStore: a model's open conflicts as an external store, the same array until a conflict
 * opens, gains a value or resolves.
 */
import type { Conflict, Fields, Model } from '@weft/doc'
import * as Y from 'yjs'

type AnyModel = Model<Readonly<Record<string, Fields>>>

/** What distinguishes one list of conflicts from another: every field and its standing values. */
const signatureOf = (conflicts: readonly Conflict[]): string =>
  conflicts
    .map(({ collection, id, field, values }) =>
      [collection, id, field, ...values.map(({ stamp, author }) => `${stamp}/${author}`)].join(
        '\u0000',
      ),
    )
    .join('\u0001')

/** One model's conflicts, recomputed after transactions that could change them. */
export class ConflictsStore {
  readonly #model: AnyModel
  readonly #listeners = new Set<() => void>()
  #conflicts: readonly Conflict[] | null = null
  #signature = ''
  #stale = true

  constructor(model: AnyModel) {
    this.#model = model
    // Values and records are Y.Maps; a transaction that changed none (typing in a text field)
    // cannot open or resolve a conflict, so it costs nothing here.
    model.doc.on('afterTransaction', (transaction: Y.Transaction) => {
      for (const type of transaction.changed.keys()) {
        if (type instanceof Y.Map) {
          this.#stale = true
          for (const listener of [...this.#listeners]) listener()
          return
        }
      }
    })
  }

  /** The open conflicts (as `model.conflicts()`): the same array while they are the same. */
  current(): readonly Conflict[] {
    if (this.#stale || this.#conflicts === null) {
      this.#stale = false
      const conflicts = this.#model.conflicts()
      const signature = signatureOf(conflicts)
      if (this.#conflicts === null || signature !== this.#signature) {
        this.#conflicts = conflicts
        this.#signature = signature
      }
    }
    return this.#conflicts
  }

  /** Calls `listener` after any transaction that may have changed the conflicts; returns `off`. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}

const stores = new WeakMap<AnyModel, ConflictsStore>()

/** The conflicts store of `model`, made once per model. */
export const conflictsStore = (model: AnyModel): ConflictsStore => {
  let store = stores.get(model)
  if (store === undefined) {
    store = new ConflictsStore(model)
    stores.set(model, store)
  }
  return store
}
