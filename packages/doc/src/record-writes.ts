/**
 * What an update would do to a schema's records, found from its decoded structs without applying
 * it: which records it creates or writes, and the first thing in it the model does not allow.
 */
import * as Y from 'yjs'
import { decodeStamp } from './hlc.js'
import { CREATED_AT_KEY, CREATED_BY_KEY, DELETED_KEY, OWNER_KEY } from './record-json.js'
import { fieldOfKey } from './register.js'
import {
  docMapAt,
  newTouch,
  TouchedRecord,
  type RecordWrite,
  type Touch,
} from './touched-record.js'

export type { RecordWrite } from './touched-record.js'
import { textEdits } from './typed-text.js'
import { SCHEMA_ROOT, type AnySchema, type Field } from './schema.js'
import { QueuedItems, UpdatePlaces, type Path, type Place } from './update-places.js'

/** Longest record id the model creates (as `MAX_ID_LENGTH` of collections). */
const MAX_RECORD_ID_LENGTH = 256

/** Where a write breaks the schema, and how. */
export interface SchemaViolation {
  readonly collection: string
  /** The record's id, or `null` when the write is not inside a record. */
  readonly id: string | null
  /** The field (or metadata key such as `createdBy`), or `null`. */
  readonly field: string | null
  /** What is wrong, in words that name the record and field. */
  readonly problem: string
}

/** What {@link inspectRecordWrites} found. */
export type RecordWriteInspection =
  | { readonly ok: true; readonly records: readonly RecordWrite[] }
  | { readonly ok: false; readonly violation: SchemaViolation }

type Decoded = ReturnType<typeof Y.decodeUpdate>

class Violation extends Error {
  constructor(readonly violation: SchemaViolation) {
    super(violation.problem)
  }
}

/**
 * Inspects a decoded update against `doc` (the room's document, everything so far applied) and
 * `schema`: every struct the document does not have yet, and every deletion of something it
 * holds undeleted. Refused (`ok: false`, naming collection, record and field): root types other
 * than the schema's collections and `weft:schema`; a record that is not a map under a valid id,
 * or that exists already (ids are immutable); keys the model does not write; values of the wrong
 * type; `createdBy`, `createdAt` and text or list fields set again on a record that has them;
 * deletions of records, of their metadata or of their text and list fields (records are deleted
 * with their flag); content nested deeper than the model goes; and content whose parent neither
 * the document nor the update holds. Known content is ignored: re-sending it is never a write.
 */
export const inspectRecordWrites = (
  doc: Y.Doc,
  decoded: Decoded,
  schema: AnySchema,
): RecordWriteInspection => {
  const inspector = new Inspector(doc, decoded, schema)
  try {
    return { ok: true, records: inspector.run() }
  } catch (error) {
    if (error instanceof Violation) return { ok: false, violation: error.violation }
    throw error
  }
}

/** Thrown while inspecting content writes only, at the first struct that is something else. */
class NotContentOnly extends Error {}

/**
 * {@link inspectRecordWrites} for a relay that judges a write without applying first what it has
 * queued: `doc` is the document as applied so far, `queued` the items of the updates accepted for
 * it since. Judged here: updates that only write or delete the content of text and list fields
 * of records in `doc`, their references resolved through the update, `doc` and `queued`. For
 * anything else (records, register fields, metadata, `weft:schema`, references none of them
 * resolves) it returns `null`: judge the update with `inspectRecordWrites` once the queue is
 * applied. `queued` must hold only such content writes, so that ownership in `doc` is current.
 */
export const inspectContentWrites = (
  doc: Y.Doc,
  decoded: Decoded,
  schema: AnySchema,
  queued: QueuedItems,
): RecordWriteInspection | null => {
  if (!queued.usable) return null
  const typed = textEdits(doc, decoded, schema, queued)
  if (typed !== undefined) return { ok: true, records: [typed] }
  const inspector = new Inspector(doc, decoded, schema, queued)
  try {
    return { ok: true, records: inspector.run() }
  } catch (error) {
    if (error instanceof NotContentOnly) return null
    if (error instanceof Violation) return { ok: false, violation: error.violation }
    throw error
  }
}

class Inspector {
  readonly #doc: Y.Doc
  readonly #schema: AnySchema
  readonly #decoded: Decoded
  readonly #places: UpdatePlaces
  /** Records touched, by collection then id, and in the order they were first touched. */
  readonly #touches = new Map<string, Map<string, Touch>>()
  readonly #touched: Array<{ collection: string; id: string; touch: Touch }> = []
  /** Content writes only (see {@link inspectContentWrites}), resolved through these items too. */
  readonly #queued: QueuedItems | null

  constructor(doc: Y.Doc, decoded: Decoded, schema: AnySchema, queued: QueuedItems | null = null) {
    this.#doc = doc
    this.#decoded = decoded
    this.#schema = schema
    this.#queued = queued
    this.#places = new UpdatePlaces(
      doc,
      decoded,
      queued === null ? unresolvable : notContentOnly,
      queued,
    )
  }

  run(): RecordWrite[] {
    const queued = this.#queued
    for (const struct of this.#decoded.structs) {
      if (!(struct instanceof Y.Item)) continue
      const { client, clock } = struct.id
      const end = clock + struct.length
      if (end <= Y.getState(this.#doc.store, client)) continue
      // Sent again (a sync message): known content is never a write, queued or applied.
      if (queued?.holds(client, Math.max(clock, Y.getState(this.#doc.store, client)), end)) continue
      this.#checkNew(struct, this.#places.ofNew(struct))
    }
    for (const [client, ranges] of this.#decoded.ds.clients) {
      for (const { clock, len } of ranges) this.#checkDeletion(client, clock, len)
    }
    return this.#touched.map(({ collection, id, touch }) =>
      this.#recordWrite(collection, id, touch),
    )
  }

  #checkNew(item: Y.Item, place: Place): void {
    const { path, key } = place
    const [root, id, sequence] = path as [string, string?, string?]
    if (this.#queued !== null && (path.length !== 3 || key !== null || root === SCHEMA_ROOT)) {
      notContentOnly()
    }
    if (root === SCHEMA_ROOT) return this.#checkSchemaMeta(item, path, key)
    const fields = this.#schema.collections[root]
    if (fields === undefined) {
      fail(root, null, null, `the schema has no collection "${root}"`)
    }
    if (id === undefined) return this.#checkRecordItem(item, root, key)
    if (sequence === undefined) return this.#checkRecordKey(item, root, id, key, fields)
    if (path.length > 3 || key !== null) {
      fail(root, id, null, `${root} record "${id}" holds content nested deeper than its fields`)
    }
    const field = sequence.slice(1)
    const spec: Field | undefined = fields[field]
    if (!sequence.startsWith('~') || spec === undefined || spec.kind === 'scalar') {
      fail(root, id, field, `${root} record "${id}" has no text or list field "${field}"`)
    }
    this.#touch(root, id).fields.add(field)
    if (item.content instanceof Y.ContentType) {
      fail(root, id, field, `${root}.${field} of record "${id}" may not hold nested types`)
    }
    if (spec.kind !== 'list' || item.content instanceof Y.ContentDeleted) return
    if (!(item.content instanceof Y.ContentAny)) {
      // Bytes, strings or embeds put into a list by hand: not JSON items the schema can check.
      fail(root, id, field, `an item of ${root}.${field} of record "${id}" is not a JSON value`)
    }
    for (const value of item.content.arr) {
      const problem = spec.item.check(value)
      if (problem !== undefined)
        fail(root, id, field, `an item of ${root}.${field} of record "${id}" ${problem}`)
    }
  }

  /** A record: a map under a valid id that the collection does not hold. */
  #checkRecordItem(item: Y.Item, collection: string, id: string | null): void {
    if (id === null) fail(collection, null, null, `collection "${collection}" holds records by id`)
    if (
      id.length === 0 ||
      id.length > MAX_RECORD_ID_LENGTH ||
      /[\u0000-\u001f\u007f-\u009f]/.test(id)
    ) {
      fail(collection, id, null, `"${id}" is not a valid ${collection} record id`)
    }
    if (this.#docMapHas([collection], id)) {
      fail(collection, id, null, `${collection} record "${id}" exists: record ids are immutable`)
    }
    if (!isType(item, Y.Map) && !(item.content instanceof Y.ContentDeleted)) {
      fail(collection, id, null, `${collection} record "${id}" must be a map`)
    }
    this.#touch(collection, id).created = true
  }

  #checkRecordKey(
    item: Y.Item,
    collection: string,
    id: string,
    key: string | null,
    fields: AnySchema['collections'][string],
  ): void {
    const where = `${collection} record "${id}"`
    if (key === null) fail(collection, id, null, `${where} must be a map`)
    const touch = this.#touch(collection, id)
    const deleted = item.content instanceof Y.ContentDeleted
    if (key === CREATED_BY_KEY || key === CREATED_AT_KEY) {
      const name = key.slice(1)
      if (this.#docMapHas([collection, id], key)) {
        fail(collection, id, name, `${name} of ${where} is set when it is created and never after`)
      }
      const value = deleted ? undefined : singleValue(item)
      const fits = key === CREATED_BY_KEY ? typeof value === 'string' : Number.isFinite(value)
      if (!fits)
        fail(
          collection,
          id,
          name,
          `${name} of ${where} must be a ${key === CREATED_BY_KEY ? 'string' : 'number'}`,
        )
      if (key === CREATED_BY_KEY) touch.createdBy = value as string
      return
    }
    if (key.startsWith('~')) {
      const field = key.slice(1)
      const spec = fields[field]
      if (spec === undefined || spec.kind === 'scalar') {
        fail(collection, id, field, `${collection} has no text or list field "${field}" (${where})`)
      }
      if (this.#docMapHas([collection, id], key)) {
        fail(
          collection,
          id,
          field,
          `${collection}.${field} of ${where} exists and may not be replaced`,
        )
      }
      if (!isType(item, spec.kind === 'text' ? Y.Text : Y.Array)) {
        fail(collection, id, field, `${collection}.${field} of ${where} must be a ${spec.kind}`)
      }
      touch.fields.add(field)
      return
    }
    const field = fieldOfKey(key)
    const stamp = field === null ? null : parseRegisterKey(key)
    if (field === null || stamp === null) {
      fail(collection, id, key, `${where} may not hold the key "${key}" (not a field of the model)`)
    }
    const value = deleted ? undefined : registerValue(item)
    if (!deleted && value === NOT_A_REGISTER) {
      fail(
        collection,
        id,
        field,
        `${collection}.${field} of ${where} must be stored as { v: value }`,
      )
    }
    if (!deleted) touch.authors.add(stamp.author)
    this.#checkRegister(touch, { collection, id, field, where }, value, fields)
  }

  #checkRegister(
    touch: Touch,
    at: { collection: string; id: string; field: string; where: string },
    value: unknown,
    fields: AnySchema['collections'][string],
  ): void {
    const { collection, id, field, where } = at
    const problem = (text: string): never =>
      fail(collection, id, field, `${collection}.${field} of ${where} ${text}`)
    if (field === DELETED_KEY) {
      touch.deletion = true
      if (value !== undefined && typeof value !== 'boolean') problem('must be true or false')
      return
    }
    if (field === OWNER_KEY) {
      touch.ownerChange = true
      if (value === undefined) return
      if (typeof value !== 'string' || value.length === 0) problem('must be a non-empty string')
      touch.newOwners.push(value as string)
      return
    }
    const spec = fields[field]
    if (spec === undefined || spec.kind !== 'scalar') {
      return problem('is not a scalar field of the schema')
    }
    touch.fields.add(field)
    if (value === undefined) return
    const wrong = spec.check(value)
    if (wrong !== undefined) problem(wrong)
  }

  /**
   * `weft:schema` holds the registers `version` and `minWriter`: integers up to the schema's
   * version. A higher `minWriter` would make every app open the document read-only.
   */
  #checkSchemaMeta(item: Y.Item, path: Path, key: string | null): void {
    const field = key === null ? null : fieldOfKey(key)
    if (path.length > 1 || field === null || (field !== 'version' && field !== 'minWriter')) {
      fail(SCHEMA_ROOT, null, key, `${SCHEMA_ROOT} holds only the registers version and minWriter`)
    }
    if (item.content instanceof Y.ContentDeleted) return
    const value = registerValue(item)
    const highest = this.#schema.version
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > highest) {
      fail(
        SCHEMA_ROOT,
        null,
        field,
        `${SCHEMA_ROOT}.${field} must be an integer from 0 to ${highest}, the schema's version`,
      )
    }
  }

  /** Deleting: register entries and text or list content only. */
  #checkDeletion(client: number, clock: number, len: number): void {
    const structs = this.#doc.store.clients.get(client)
    const known = Y.getState(this.#doc.store, client)
    if (structs !== undefined && clock < known) {
      for (let index = Y.findIndexSS(structs, clock); index < structs.length; index++) {
        const struct = structs[index] as Y.Item | Y.GC
        if (struct.id.clock >= clock + len) break
        if (struct.deleted || !(struct instanceof Y.Item)) continue
        if (this.#deletedInQueue(struct.id.client, struct.id.clock, struct.length, clock, len))
          continue
        this.#checkDeleted(this.#places.ofDocItem(struct))
      }
    }
    if (clock + len <= known) return
    // The rest of the range deletes structs of this update (made and deleted offline), or of
    // queued ones; a deletion of structs nobody has sent would wait in the document and strike
    // when they came.
    for (let at = Math.max(clock, known); at < clock + len;) {
      const item = this.#places.itemAt(client, at)
      if (item === null) {
        if (this.#queued !== null) notContentOnly()
        unresolvable({ client, clock: at })
      }
      // Only its part past the document's state: an item sent again may start inside it.
      const end = item.id.clock + item.length
      if (!this.#deletedInQueue(client, at, end - at, clock, len)) {
        this.#checkDeleted(this.#places.ofNew(item))
      }
      at = end
    }
  }

  /**
   * Whether the part of a struct (`start`, `length`) that a deletion (`clock`, `len`) covers is
   * deleted by the queue already: deleting it again is no write (as for deleted structs of the
   * document).
   */
  #deletedInQueue(client: number, start: number, length: number, clock: number, len: number) {
    if (this.#queued === null) return false
    const from = Math.max(start, clock)
    return this.#queued.deletes(client, from, Math.min(start + length, clock + len))
  }

  #checkDeleted(place: Place): void {
    const { path, key } = place
    const [root, id, sequence] = path as [string, string?, string?]
    if (this.#queued !== null && (path.length !== 3 || key !== null || root === SCHEMA_ROOT)) {
      notContentOnly()
    }
    if (root === SCHEMA_ROOT) return
    if (this.#schema.collections[root] === undefined) {
      fail(root, null, null, `the schema has no collection "${root}"`)
    }
    if (id === undefined) {
      fail(root, key, null, `${root} record "${key}" may not be removed (delete it with its flag)`)
    }
    const touch = this.#touch(root, id)
    if (sequence !== undefined) {
      touch.fields.add(sequence.slice(1))
      return
    }
    const field = key === null ? null : fieldOfKey(key)
    if (field === null) {
      const name = key === null ? null : key.replace(/^[@~]/, '')
      fail(root, id, name, `${name ?? 'content'} of ${root} record "${id}" may not be removed`)
    }
    if (field === DELETED_KEY) touch.deletion = true
    else if (field === OWNER_KEY) touch.ownerChange = true
    else touch.fields.add(field)
  }

  #touch(collection: string, id: string): Touch {
    let records = this.#touches.get(collection)
    if (records === undefined) this.#touches.set(collection, (records = new Map()))
    let touch = records.get(id)
    if (touch === undefined) {
      touch = newTouch()
      records.set(id, touch)
      this.#touched.push({ collection, id, touch })
    }
    return touch
  }

  /** A touched record as reported. */
  #recordWrite(collection: string, id: string, touch: Touch): RecordWrite {
    return new TouchedRecord(collection, id, touch, this.#docMap([collection, id]))
  }

  /** The map at `path` in the document (a collection's records are maps), or `null`. */
  #docMap(path: Path): Y.Map<unknown> | null {
    return docMapAt(this.#doc, path)
  }

  /** Whether the map at `path` has an item (even a deleted one) under `key`. */
  #docMapHas(path: Path, key: string): boolean {
    const map = this.#docMap(path)
    return map !== null && map._map.has(key)
  }
}

const NOT_A_REGISTER = Symbol('not a register')

/** The value of a register entry as written (`{ v: value }`), or {@link NOT_A_REGISTER}. */
const registerValue = (item: Y.Item): unknown => {
  const stored = singleValue(item)
  if (typeof stored !== 'object' || stored === null || !Object.hasOwn(stored, 'v')) {
    return NOT_A_REGISTER
  }
  const value = (stored as { v: unknown }).v
  // A register holds JSON values; `undefined` reads as null.
  return value === undefined ? null : value
}

const singleValue = (item: Y.Item): unknown =>
  item.content instanceof Y.ContentAny && item.content.arr.length === 1
    ? item.content.arr[0]
    : NOT_A_REGISTER

/** The stamp and author of a register key `=field|stamp|author`, or `null` when malformed. */
const parseRegisterKey = (key: string): { stamp: string; author: string } | null => {
  const first = key.indexOf('|')
  const second = key.indexOf('|', first + 1)
  if (first < 0 || second < 0) return null
  const stamp = key.slice(first + 1, second)
  const author = key.slice(second + 1)
  return decodeStamp(stamp) === null || author.length === 0 ? null : { stamp, author }
}

const isType = (item: Y.Item, type: typeof Y.Map | typeof Y.Text | typeof Y.Array): boolean =>
  item.content instanceof Y.ContentType && item.content.type.constructor === type

function fail(collection: string, id: string | null, field: string | null, problem: string): never {
  throw new Violation({ collection, id, field, problem })
}

function notContentOnly(): never {
  throw new NotContentOnly()
}

function unresolvable(item: { client: number; clock: number }): never {
  return fail(
    '',
    null,
    null,
    `the update builds on content the relay does not have, or nests types deeper than the model (Yjs client ${item.client}, clock ${item.clock}), so it cannot be checked against the schema`,
  )
}
