/**
 * CollectionStore: one collection of a model as an external store for useSyncExternalStore, with
 * snapshots that stay the same object until what they show changes, and listeners told only of
 * the records a change touched.
 */
import type { Collection, Fields, Model, RecordOf } from '@weft/doc'
import * as Y from 'yjs'

type AnyModel = Model<Readonly<Record<string, Fields>>>

/** The record ids a batch of deep events on a collection's root map touched. */
const touchedIds = (
  root: Y.Map<unknown>,
  events: ReadonlyArray<Y.YEvent<Y.AbstractType<unknown>>>,
): Set<string> => {
  const ids = new Set<string>()
  for (const event of events) {
    if (event.target === root) {
      for (const key of (event as Y.YMapEvent<unknown>).keysChanged) ids.add(key)
    } else {
      // The path from the root: its first step is the record's key (a field's text or list
      // lies one step further).
      const [id] = event.path
      if (typeof id === 'string') ids.add(id)
    }
  }
  return ids
}

/** One collection's records, cached, with per-record and whole-collection listeners. */
export class CollectionStore<S extends Fields> {
  readonly #collection: Collection<S>
  readonly #listListeners = new Set<() => void>()
  readonly #recordListeners = new Map<string, Set<() => void>>()
  #list: ReadonlyArray<RecordOf<S>> | null = null
  readonly #records = new Map<string, RecordOf<S> | null>()

  constructor(model: AnyModel, name: string) {
    this.#collection = model.collection(name) as unknown as Collection<S>
    const root = model.doc.getMap<unknown>(name)
    // Observed for the model's lifetime: the store lives exactly as long as its document.
    root.observeDeep((events) => this.#changed(touchedIds(root, events)))
  }

  /** Every record not deleted, oldest first: the same array until the collection changes. */
  list(): ReadonlyArray<RecordOf<S>> {
    this.#list ??= this.#collection.list()
    return this.#list
  }

  /** The record `id` (`null` if missing or deleted): the same object until that record changes. */
  get(id: string): RecordOf<S> | null {
    if (!this.#records.has(id)) this.#records.set(id, this.#collection.get(id))
    return this.#records.get(id) ?? null
  }

  /** Calls `listener` after any change to the collection; returns `off`. */
  subscribeList(listener: () => void): () => void {
    this.#listListeners.add(listener)
    return () => this.#listListeners.delete(listener)
  }

  /** Calls `listener` after a change to record `id` only; returns `off`. */
  subscribeRecord(id: string, listener: () => void): () => void {
    let listeners = this.#recordListeners.get(id)
    if (listeners === undefined) {
      listeners = new Set()
      this.#recordListeners.set(id, listeners)
    }
    listeners.add(listener)
    return () => {
      listeners.delete(listener)
      if (listeners.size === 0) this.#recordListeners.delete(id)
    }
  }

  #changed(ids: ReadonlySet<string>): void {
    if (ids.size === 0) return
    this.#list = null
    for (const id of ids) this.#records.delete(id)
    // Copies: a listener may unsubscribe (an unmounting component) while we call them.
    for (const listener of [...this.#listListeners]) listener()
    for (const id of ids) {
      for (const listener of [...(this.#recordListeners.get(id) ?? [])]) listener()
    }
  }
}

const stores = new WeakMap<AnyModel, Map<string, CollectionStore<Fields>>>()

/** The store of collection `name` of `model`, made once per model and name. */
export const collectionStore = <S extends Fields>(
  model: AnyModel,
  name: string,
): CollectionStore<S> => {
  let byName = stores.get(model)
  if (byName === undefined) {
    byName = new Map()
    stores.set(model, byName)
  }
  let store = byName.get(name)
  if (store === undefined) {
    store = new CollectionStore(model, name)
    byName.set(name, store)
  }
  return store as unknown as CollectionStore<S>
}
