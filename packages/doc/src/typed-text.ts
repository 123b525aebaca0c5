/**
 * The write check's shortcut for typing and erasing: the characters one client typed into one
 * text field of one record (one keystroke or a batch of them), each placed after a character the
 * document holds, the update holds or the relay has queued, and characters of that field
 * deleted, judged without building a whole inspection. It answers exactly as
 * `inspectContentWrites` would, or not at all.
 */
import * as Y from 'yjs'
import { SCHEMA_ROOT, type AnySchema } from './schema.js'
import { docMapAt, TouchedRecord, type RecordWrite } from './touched-record.js'
import type { Path, Place, QueuedItems } from './update-places.js'

/**
 * The record `decoded` writes, when it only types into and erases from one text field of a
 * collection of `schema`: it may be written. `undefined` for anything else, which the full
 * inspection judges (a violation included: this never refuses). Typed characters must be string
 * items of one client, in one run of clocks that neither `doc` nor `queued` holds any of, each
 * placed without parent info after (or before) a character of `doc`, of the run or of `queued`,
 * or at the start of a field of `doc`. Deleted characters must be in `doc`, in the run or in
 * `queued`. Once `decoded` is added to `queued`, the run's characters are found there in place.
 */
export const textEdits = (
  doc: Y.Doc,
  decoded: ReturnType<typeof Y.decodeUpdate>,
  schema: AnySchema,
  queued: QueuedItems,
): RecordWrite | undefined => {
  if (!queued.usable) return undefined
  const edits = new TextEdits(doc, schema, queued)
  if (!edits.typed(decoded.structs) || !edits.erased(decoded.ds)) return undefined
  edits.placeRun(decoded)
  return edits.write
}

/** What {@link textEdits} has found so far of one update. */
class TextEdits {
  readonly #doc: Y.Doc
  readonly #schema: AnySchema
  readonly #queued: QueuedItems
  /** Where everything seen so far goes, and what that writes. */
  #place: Place | undefined
  write: RecordWrite | undefined
  /** The typed run: clocks `from` to `to` (excluded) of `client` (-1 while there is none). */
  #client = -1
  #from = 0
  #to = 0

  constructor(doc: Y.Doc, schema: AnySchema, queued: QueuedItems) {
    this.#doc = doc
    this.#schema = schema
    this.#queued = queued
  }

  /** Whether every struct is a typed character of the run, going where the others go. */
  typed(structs: ReadonlyArray<Y.Item | Y.GC>): boolean {
    for (const struct of structs) {
      if (!(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentString)) return false
      const { client, clock } = struct.id
      if (struct.length === 0) return false
      if (this.#client === -1) {
        // New content only, after anything queued of its client.
        if (clock < Y.getState(this.#doc.store, client) || this.#queued.endOf(client) > clock) {
          return false
        }
        this.#client = client
        this.#from = clock
        this.#to = clock
      } else if (client !== this.#client || clock !== this.#to) return false
      if (!this.#agrees(this.#placeOfTyped(struct))) return false
      this.#to = clock + struct.length
    }
    return true
  }

  /** Whether every deletion strikes characters of the place the typing goes to (or of one). */
  erased(ds: ReturnType<typeof Y.createDeleteSet>): boolean {
    for (const [client, ranges] of ds.clients) {
      const structs = this.#doc.store.clients.get(client)
      const known = Y.getState(this.#doc.store, client)
      for (const { clock, len } of ranges) {
        const end = clock + len
        if (structs !== undefined && clock < known && !this.#erasedInDoc(structs, clock, end)) {
          return false
        }
        if (end <= known) continue
        const from = Math.max(clock, known)
        // Characters typed in this update go where the run goes.
        if (client === this.#client && from >= this.#from && end <= this.#to) continue
        if (!this.#erasedInQueue(client, from, end)) return false
      }
    }
    return true
  }

  /** Tells the queue where the run goes, once `decoded` is added to it. */
  placeRun(decoded: ReturnType<typeof Y.decodeUpdate>): void {
    const place = this.#place
    if (this.#client !== -1 && place !== undefined) {
      this.#queued.placeRun(decoded, this.#client, this.#from, this.#to, place)
    }
  }

  #erasedInDoc(structs: Array<Y.Item | Y.GC>, clock: number, end: number): boolean {
    for (let index = Y.findIndexSS(structs, clock); index < structs.length; index++) {
      const struct = structs[index] as Y.Item | Y.GC
      if (struct.id.clock >= end) break
      if (struct.deleted || !(struct instanceof Y.Item)) continue
      // Deleted by the queue already: deleting it again writes nothing.
      const from = Math.max(struct.id.clock, clock)
      const to = Math.min(struct.id.clock + struct.length, end)
      if (this.#queued.deletes(struct.id.client, from, to)) continue
      if (struct.parentSub !== null || !(struct.parent instanceof Y.AbstractType)) return false
      if (!this.#agrees(placeOfField(struct.parent, this.#queued))) return false
    }
    return true
  }

  /** Whether queued items cover `from` to `end` of `client`, each going where the rest goes. */
  #erasedInQueue(client: number, from: number, end: number): boolean {
    let at = from
    while (at < end) {
      const item = this.#queued.findAt(client, at)
      if (item === null) return false
      const itemEnd = item.id.clock + item.length
      const deleted = this.#queued.deletes(client, at, Math.min(itemEnd, end))
      if (!deleted && !this.#agrees(this.#queued.placeOf(item))) return false
      at = itemEnd
    }
    return true
  }

  /**
   * Whether `place` is a text field of the schema, and the one everything seen so far goes to:
   * the first such place decides what the update writes.
   */
  #agrees(place: Place | undefined): boolean {
    if (place === undefined) return false
    if (this.#place !== undefined) return samePlace(this.#place, place)
    const write = learnedWrite(this.#doc, place, this.#schema, this.#queued)
    if (write === null) return false
    this.#place = place
    this.write = write
    return true
  }

  /** Where a typed character goes, by its neighbour (as the full inspection finds it) or parent. */
  #placeOfTyped(item: Y.Item): Place | undefined {
    const parent = item.parent
    if (parent === null) {
      const reference = item.origin ?? item.rightOrigin
      if (reference === null) return undefined
      const { client, clock } = reference
      // A character of the run typed before it: the run goes to one place.
      if (client === this.#client && clock >= this.#from && clock < this.#to) return this.#place
      return referencePlace(this.#doc, reference, this.#queued)
    }
    // Typed at the start of a field: its parent is the field's type.
    if (!(parent instanceof Y.ID) || item.parentSub !== null) return undefined
    const holder = docItem(this.#doc, parent)
    const content = holder?.content
    if (!(content instanceof Y.ContentType)) return undefined
    return placeOfField(content.type as Y.AbstractType<unknown>, this.#queued)
  }
}

/** Whether two places are the same (places are made per type, and per inspection). */
const samePlace = (a: Place, b: Place): boolean => {
  if (a === b) return true
  if (a.key !== b.key || a.path.length !== b.path.length) return false
  return a.path.every((part, index) => part === b.path[index])
}

/** What a write into the field at `place` writes, learned once per tick (see `textWrite`). */
const learnedWrite = (
  doc: Y.Doc,
  place: Place,
  schema: AnySchema,
  queued: QueuedItems,
): RecordWrite | null => {
  let write = queued.learned.get(place) as RecordWrite | null | undefined
  if (write === undefined) {
    write = textWrite(doc, place, schema)
    queued.learned.set(place, write)
  }
  return write
}

/** The write of a run typed at `place`, when it is a text field of `schema`; else `null`. */
const textWrite = (doc: Y.Doc, place: Place, schema: AnySchema): RecordWrite | null => {
  if (place.key !== null || place.path.length !== 3) return null
  const [collection, id, sequence] = place.path as [string, string, string]
  const field = sequence.slice(1)
  if (collection === SCHEMA_ROOT || !sequence.startsWith('~')) return null
  if (schema.collections[collection]?.[field]?.kind !== 'text') return null
  const touch = {
    created: false,
    fields: new Set([field]),
    deletion: false,
    ownerChange: false,
    newOwners: NO_OWNERS,
    authors: NO_AUTHORS,
    createdBy: null,
  }
  return new TouchedRecord(collection, id, touch, docMapAt(doc, [collection, id]))
}

/** A typed run writes no owner and no register value, so under no author. */
const NO_OWNERS: string[] = []
const NO_AUTHORS = new Set<string>()

/** The item of `doc` covering `id`, or `null` (not there, or collected). */
const docItem = (doc: Y.Doc, id: Y.ID): Y.Item | null => {
  if (Y.getState(doc.store, id.client) <= id.clock) return null
  const structs = doc.store.clients.get(id.client)
  const struct = structs?.[Y.findIndexSS(structs, id.clock)]
  return struct instanceof Y.Item ? struct : null
}

/** Where the item `reference` is: an item of `doc` in a nested type, or a queued one placed. */
const referencePlace = (doc: Y.Doc, reference: Y.ID, queued: QueuedItems): Place | undefined => {
  if (Y.getState(doc.store, reference.client) <= reference.clock) {
    const item = queued.findAt(reference.client, reference.clock)
    return item === null ? undefined : queued.placeOf(item)
  }
  const item = docItem(doc, reference)
  if (item === null || item.parentSub !== null) return undefined
  const type = item.parent
  return type instanceof Y.AbstractType ? placeOfField(type, queued) : undefined
}

/** The place of content in `type` (a record's field), one per type for the tick. */
const placeOfField = (type: Y.AbstractType<unknown>, queued: QueuedItems): Place | undefined => {
  // One place per type for the tick, so that what is learned of it is found again.
  let place = queued.learned.get(type) as Place | null | undefined
  if (place === undefined) {
    const path = pathOfField(type)
    place = path === undefined ? null : { path, key: null }
    queued.learned.set(type, place)
  }
  return place ?? undefined
}

/** `[collection, id, '~field']` for a type held by a record of a root map, else `undefined`. */
const pathOfField = (type: Y.AbstractType<unknown>): Path | undefined => {
  const holder = type._item
  const record = holder?.parent
  if (holder === null || holder.parentSub === null || !(record instanceof Y.AbstractType)) {
    return undefined
  }
  const recordItem = record._item
  const root = recordItem?.parent
  if (recordItem === null || recordItem.parentSub === null || !(root instanceof Y.AbstractType)) {
    return undefined
  }
  if (root._item !== null) return undefined
  let key: string
  try {
    key = Y.findRootTypeKey(root)
  } catch {
    return undefined
  }
  return [key, recordItem.parentSub, holder.parentSub]
}
