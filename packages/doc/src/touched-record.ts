/** TouchedRecord: one record an update touches, as the write inspections report it. */
import * as Y from 'yjs'
import { CREATED_BY_KEY, OWNER_KEY } from './record-json.js'
import { entriesOf } from './register.js'
import type { Path } from './update-places.js'

/** One record an update touches, with its ownership as stored before the update. */
export interface RecordWrite {
  readonly collection: string
  readonly id: string
  /** The update creates the record (it was not in the document). */
  readonly created: boolean
  /** Fields whose values it writes or deletes (scalars, text or list content). */
  readonly fields: ReadonlySet<string>
  /** It writes or deletes an entry of the deletion flag (a delete or a restore). */
  readonly deletion: boolean
  /** It writes or deletes an entry of `@owner` (an ownership change). */
  readonly ownerChange: boolean
  /** Owners it writes to `@owner` (empty when it only deletes entries). */
  readonly newOwners: readonly string[]
  /** Authors its new field values are written as (the last part of their register keys). */
  readonly authors: ReadonlySet<string>
  /** `createdBy` as stored, or as the update sets it for a record it creates. */
  readonly createdBy: string | null
  /** The owner as stored before the update (`@owner`, else `createdBy`); `null` when new. */
  readonly owner: string | null
}

/** What an inspection gathers of one record while it reads an update. */
export interface Touch {
  created: boolean
  readonly fields: Set<string>
  deletion: boolean
  ownerChange: boolean
  readonly newOwners: string[]
  readonly authors: Set<string>
  createdBy: string | null
}

/** A new {@link Touch}: nothing touched yet. */
export const newTouch = (): Touch => ({
  created: false,
  fields: new Set(),
  deletion: false,
  ownerChange: false,
  newOwners: [],
  authors: new Set(),
  createdBy: null,
})

/** A {@link RecordWrite}, whose stored `createdBy` and owner are read when first asked for. */
export class TouchedRecord implements RecordWrite {
  readonly collection: string
  readonly id: string
  readonly created: boolean
  readonly fields: ReadonlySet<string>
  readonly deletion: boolean
  readonly ownerChange: boolean
  readonly newOwners: readonly string[]
  readonly authors: ReadonlySet<string>
  readonly #stored: Y.Map<unknown> | null
  readonly #createdBy: string | null
  #ownership: { createdBy: string | null; owner: string | null } | undefined

  constructor(collection: string, id: string, touch: Touch, stored: Y.Map<unknown> | null) {
    this.collection = collection
    this.id = id
    this.created = touch.created && stored === null
    this.fields = touch.fields
    this.deletion = touch.deletion
    this.ownerChange = touch.ownerChange
    this.newOwners = touch.newOwners
    this.authors = touch.authors
    this.#stored = stored
    this.#createdBy = touch.createdBy
  }

  get createdBy(): string | null {
    return (this.#ownership ??= ownershipOf(this.#stored, this.#createdBy)).createdBy
  }

  get owner(): string | null {
    return (this.#ownership ??= ownershipOf(this.#stored, this.#createdBy)).owner
  }
}

/** `createdBy` and the owner of a record as `stored` (`@owner`, else `createdBy`). */
const ownershipOf = (
  stored: Y.Map<unknown> | null,
  created: string | null,
): { createdBy: string | null; owner: string | null } => {
  const storedCreatedBy = stored?.get(CREATED_BY_KEY)
  const createdBy = typeof storedCreatedBy === 'string' ? storedCreatedBy : created
  const owner =
    stored === null ? null : ((entriesOf(stored, OWNER_KEY)[0]?.value as string) ?? createdBy)
  return { createdBy, owner }
}

/** The map at `path` in `doc` (a collection's records are maps), or `null`. */
export const docMapAt = (doc: Y.Doc, path: Path): Y.Map<unknown> | null => {
  const [root, id] = path as [string, string?]
  const type = doc.share.get(root)
  if (type === undefined) return null
  if (id === undefined) return type as unknown as Y.Map<unknown>
  const item = type._map.get(id)
  if (item === undefined || item.deleted || !(item.content instanceof Y.ContentType)) return null
  return item.content.type instanceof Y.Map ? (item.content.type as Y.Map<unknown>) : null
}
