/**
 * The write check's shortcuts for typing and erasing: one run of characters inserted into a
 * text field after a character the document holds or the relay has queued, or characters of a
 * text field the document holds deleted, judged without building a whole inspection. They answer
 * exactly as `inspectContentWrites` would, or not at all.
 */
import * as Y from 'yjs'
import { SCHEMA_ROOT, type AnySchema } from './schema.js'
import { docMapAt, TouchedRecord, type RecordWrite } from './touched-record.js'
import type { Path, Place, QueuedItems } from './update-places.js'

/**
 * The record `decoded` writes, when it is one string item without parent info (typing) placed
 * after an item of `doc` or of `queued` whose place is a text field of a collection of `schema`:
 * it may be written. `undefined` for anything else, which the full inspection judges (a
 * violation included: this never refuses).
 */
export const typedText = (
  doc: Y.Doc,
  decoded: ReturnType<typeof Y.decodeUpdate>,
  schema: AnySchema,
  queued: QueuedItems,
): RecordWrite | undefined => {
  const { structs, ds } = decoded
  const item = structs[0]
  if (structs.length !== 1 || ds.clients.size !== 0 || !(item instanceof Y.Item)) return undefined
  if (!queued.usable) return undefined
  const { origin } = item
  if (item.parent !== null || origin === null || !(item.content instanceof Y.ContentString)) {
    return undefined
  }
  const { client, clock } = item.id
  if (clock < Y.getState(doc.store, client)) return undefined
  if (queued.holds(client, clock, clock + item.length)) return undefined
  const place = originPlace(doc, origin, queued)
  if (place === undefined) return undefined
  // What a run typed at this place writes: the same for every run of the tick.
  const write = learnedWrite(doc, place, schema, queued)
  if (write === null) return undefined
  // Where the next keystroke, placed after this one, goes.
  queued.remember(item, place)
  return write
}

/**
 * The record `decoded` writes, when it only deletes characters of one text field of one record,
 * all of them in `doc` (erasing): it may be written. `undefined` for anything else, which the
 * full inspection judges.
 */
export const erasedText = (
  doc: Y.Doc,
  decoded: ReturnType<typeof Y.decodeUpdate>,
  schema: AnySchema,
  queued: QueuedItems,
): RecordWrite | undefined => {
  const { structs: added, ds } = decoded
  if (added.length !== 0 || ds.clients.size !== 1 || !queued.usable) return undefined
  const [client, ranges] = ds.clients.entries().next().value as [
    number,
    Array<{ clock: number; len: number }>,
  ]
  const structs = doc.store.clients.get(client)
  const known = Y.getState(doc.store, client)
  if (structs === undefined) return undefined
  let write: RecordWrite | undefined
  for (const { clock, len } of ranges) {
    const end = clock + len
    if (end > known) return undefined
    for (let index = Y.findIndexSS(structs, clock); index < structs.length; index++) {
      const struct = structs[index] as Y.Item | Y.GC
      if (struct.id.clock >= end) break
      if (struct.deleted || !(struct instanceof Y.Item)) continue
      // Deleted by the queue already: deleting it again writes nothing.
      const from = Math.max(struct.id.clock, clock)
      if (queued.deletes(client, from, Math.min(struct.id.clock + struct.length, end))) continue
      if (struct.parentSub !== null || !(struct.parent instanceof Y.AbstractType)) return undefined
      const place = placeOfField(struct.parent, queued)
      const found = place === undefined ? null : learnedWrite(doc, place, schema, queued)
      if (found === null || (write !== undefined && write !== found)) return undefined
      write = found
    }
  }
  return write
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

/** Where the item `origin` is: an item of `doc` in a nested type, or a queued one already placed. */
const originPlace = (doc: Y.Doc, origin: Y.ID, queued: QueuedItems): Place | undefined => {
  if (Y.getState(doc.store, origin.client) <= origin.clock) {
    const item = queued.find(origin)
    return item === null ? undefined : queued.placeOf(item)
  }
  const structs = doc.store.clients.get(origin.client)
  const item = structs?.[Y.findIndexSS(structs, origin.clock)]
  if (!(item instanceof Y.Item) || item.parentSub !== null) return undefined
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
