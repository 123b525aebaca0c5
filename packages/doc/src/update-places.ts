/** Where the structs of an update and of a document live: root type, keys of their holders, key. */
import * as Y from 'yjs'

/** Where a type lives: its root, then the keys of the items holding it (`''` inside a list). */
export type Path = readonly string[]
/** Where an item lives: the path of its parent type and its key there (`null` in a sequence). */
export interface Place {
  readonly path: Path
  readonly key: string | null
}

/** How far neighbour references are followed before an update counts as unresolvable. */
const MAX_HOPS = 10_000
/**
 * How deep types of an update may nest in each other (the model nests three: collection, record,
 * text or list); deeper, or cyclic, holders are unresolvable rather than a deep recursion.
 */
const MAX_NESTING = 8

/**
 * The items of updates accepted for a document but not applied to it yet (a relay's room queues
 * what arrives within a tick), by client in clock order: a later update's references to them
 * resolve through them without applying the queue first. Holds what it is given until
 * {@link QueuedItems.clear}; an item given twice is found either way.
 */
export class QueuedItems {
  readonly #byClient = new Map<number, Y.Item[]>()
  /** Where items were found to go, so that a chain of queued items is not walked again. */
  readonly #places = new Map<Y.Item, Place>()
  #overlapping = false
  /** The deletions of the queued updates, by client: ranges as added, then sorted and merged. */
  readonly #deleted = new Map<number, { ranges: Range[]; merged: boolean }>()
  /**
   * Runs of items known to go to one place each (typing), by client in clock order: their
   * places without an entry per item.
   */
  readonly #runs = new Map<number, Run[]>()
  /** A run placed for an update not added yet (see {@link QueuedItems.placeRun}). */
  #pendingRun: PendingRun | null = null

  /** Adds the items and deletions of a decoded update. */
  add(decoded: ReturnType<typeof Y.decodeUpdate>): void {
    for (const [client, ranges] of decoded.ds.clients) {
      let known = this.#deleted.get(client)
      if (known === undefined) this.#deleted.set(client, (known = { ranges: [], merged: true }))
      for (const { clock, len } of ranges) known.ranges.push({ from: clock, to: clock + len })
      known.merged = false
    }
    for (const struct of decoded.structs) {
      if (struct instanceof Y.Item) this.#addItem(struct)
    }
    const run = this.#pendingRun
    this.#pendingRun = null
    if (run !== null && run.decoded === decoded) this.#addRun(run)
  }

  #addItem(item: Y.Item): void {
    const { client, clock } = item.id
    const end = clock + item.length
    const list = this.#byClient.get(client)
    if (list === undefined) {
      this.#byClient.set(client, [item])
      return
    }
    const last = list[list.length - 1] as Y.Item
    // After everything queued of its client: the usual case, typing.
    if (last.id.clock + last.length <= clock) {
      list.push(item)
      return
    }
    // Known already (sent again): nothing to index.
    if (this.holds(client, clock, end)) return
    // Items stay sorted and apart, so that searches hold; one that overlaps a queued item
    // in part (the same content cut differently) leaves the index unusable for the tick.
    const at = indexAfter(list, clock)
    const next = list[at]
    if (next !== undefined && next.id.clock < end) this.#overlapping = true
    else list.splice(at, 0, item)
  }

  /**
   * Notes that clocks `from` to `to` (excluded) of `client`, items of `decoded`, go to `place`:
   * known once `decoded` is added (a write that is refused is never added, and its place is
   * forgotten with the next update added). The run must follow everything queued of `client`.
   */
  placeRun(
    decoded: ReturnType<typeof Y.decodeUpdate>,
    client: number,
    from: number,
    to: number,
    place: Place,
  ): void {
    this.#pendingRun = { decoded, client, from, to, place }
  }

  #addRun({ client, from, to, place }: PendingRun): void {
    const runs = this.#runs.get(client)
    const last = runs?.[runs.length - 1]
    if (runs === undefined) this.#runs.set(client, [{ from, to, place }])
    else if (last !== undefined && last.to === from && last.place === place) last.to = to
    else runs.push({ from, to, place })
  }

  /**
   * Whether the queue can be searched: false once an update overlapped queued items in part
   * (judge with the queue applied until it is).
   */
  get usable(): boolean {
    return !this.#overlapping
  }

  /** The queued item covering `clock` of `client`, or `null`. */
  findAt(client: number, clock: number): Y.Item | null {
    return findCovering(this.#byClient.get(client), clock)
  }

  /** The clock just past the last queued item of `client` (0 when none is). */
  endOf(client: number): number {
    const items = this.#byClient.get(client)
    const last = items?.[items.length - 1]
    return last === undefined ? 0 : last.id.clock + last.length
  }

  /** Whether the queued items cover every clock of `client` from `from` to `to` (excluded). */
  holds(client: number, from: number, to: number): boolean {
    const items = this.#byClient.get(client)
    if (items === undefined) return false
    let at = from
    for (let index = indexAfter(items, from); index < items.length && at < to; index++) {
      const item = items[index] as Y.Item
      if (item.id.clock > at) return false
      at = Math.max(at, item.id.clock + item.length)
    }
    return at >= to
  }

  /** Whether the queued deletions cover every clock of `client` from `from` to `to` (excluded). */
  deletes(client: number, from: number, to: number): boolean {
    const known = this.#deleted.get(client)
    if (known === undefined) return false
    if (!known.merged) {
      known.ranges = mergeRanges(known.ranges)
      known.merged = true
    }
    const range = known.ranges[rangeAfter(known.ranges, from)]
    return range !== undefined && range.from <= from && range.to >= to
  }

  /** Where `item` goes, when an inspection found it. */
  placeOf(item: Y.Item): Place | undefined {
    return this.#places.get(item) ?? this.#runPlace(item.id.client, item.id.clock)
  }

  /** The place of the run holding `clock` of `client`, if one does. */
  #runPlace(client: number, clock: number): Place | undefined {
    const runs = this.#runs.get(client)
    const run = runs?.[rangeAfter(runs, clock)]
    return run !== undefined && run.from <= clock ? run.place : undefined
  }

  /** Notes where `item` goes. */
  remember(item: Y.Item, place: Place): void {
    this.#places.set(item, place)
  }

  /**
   * What the check's shortcuts learn during a tick, by what they learn it of (a type, a place):
   * true until the queue is applied, when it is forgotten with it.
   */
  readonly learned = new Map<object, unknown>()

  /** Forgets everything (the queue was applied). */
  clear(): void {
    this.#byClient.clear()
    this.#deleted.clear()
    this.#places.clear()
    this.#runs.clear()
    this.#pendingRun = null
    this.learned.clear()
    this.#overlapping = false
  }
}

/** Clocks `from` to `to` (excluded) of one client. */
interface Range {
  readonly from: number
  readonly to: number
}

/** Clocks `from` to `to` (excluded) of one client whose items go to `place`. */
interface Run {
  readonly from: number
  to: number
  readonly place: Place
}

/** A run of `decoded`'s items, waiting for `decoded` to be queued. */
interface PendingRun {
  readonly decoded: ReturnType<typeof Y.decodeUpdate>
  readonly client: number
  readonly from: number
  readonly to: number
  readonly place: Place
}

/** Index of the first of `ranges` (sorted and apart) ending after `clock`: a binary search. */
const rangeAfter = (ranges: ReadonlyArray<{ readonly to: number }>, clock: number): number => {
  let low = 0
  let high = ranges.length
  while (low < high) {
    const middle = (low + high) >> 1
    if ((ranges[middle] as { readonly to: number }).to <= clock) low = middle + 1
    else high = middle
  }
  return low
}

/** `ranges` sorted, with overlapping and adjacent ones merged. */
const mergeRanges = (ranges: readonly Range[]): Range[] => {
  const sorted = [...ranges].sort((a, b) => a.from - b.from)
  const merged: Range[] = []
  for (const range of sorted) {
    const last = merged[merged.length - 1]
    if (last !== undefined && range.from <= last.to) {
      merged[merged.length - 1] = { from: last.from, to: Math.max(last.to, range.to) }
    } else merged.push(range)
  }
  return merged
}

/**
 * Finds where the items of a decoded update would go in `doc`, and where the document's own
 * items are, by following parent and neighbour references through the update and the document
 * (binary searches, a type's path computed once). An item whose references lead to structs
 * neither holds is passed to `unresolvable`, which throws.
 */
export class UpdatePlaces {
  readonly #doc: Y.Doc
  readonly #byClient = new Map<number, Y.Item[]>()
  readonly #typePaths = new Map<Y.AbstractType<unknown>, Path | null>()
  readonly #unresolvable: (id: { client: number; clock: number }) => never
  readonly #queued: QueuedItems | null
  readonly #known = new Map<Y.Item, Place>()

  /** With `queued`, references to items queued for the document resolve through them too. */
  constructor(
    doc: Y.Doc,
    decoded: ReturnType<typeof Y.decodeUpdate>,
    unresolvable: (id: { client: number; clock: number }) => never,
    queued: QueuedItems | null = null,
  ) {
    this.#doc = doc
    this.#unresolvable = unresolvable
    this.#queued = queued
    for (const struct of decoded.structs) {
      if (!(struct instanceof Y.Item)) continue
      const list = this.#byClient.get(struct.id.client)
      if (list === undefined) this.#byClient.set(struct.id.client, [struct])
      else list.push(struct)
    }
  }

  /** The item of the update covering `clock` of `client`, else the queued one, else `null`. */
  itemAt(client: number, clock: number): Y.Item | null {
    return (
      findCovering(this.#byClient.get(client), clock) ?? this.#queued?.findAt(client, clock) ?? null
    )
  }

  /**
   * Where an item of the update lives: its own parent info, else its neighbour's. Each item's
   * place is kept (with the queue's, for queued items), so a run of items each built on the
   * previous one (typing) costs one step each.
   */
  ofNew(start: Y.Item, nesting = 0): Place {
    const known = this.#known.get(start) ?? this.#queued?.placeOf(start)
    if (known !== undefined) return known
    const place = this.#findPlace(start, nesting)
    this.#known.set(start, place)
    this.#queued?.remember(start, place)
    return place
  }

  #findPlace(start: Y.Item, nesting: number): Place {
    if (nesting > MAX_NESTING) return this.#unresolvable(start.id)
    let item = start
    for (let hops = 0; hops < MAX_HOPS; hops++) {
      const parent = item.parent as unknown
      if (typeof parent === 'string') return { path: [parent], key: item.parentSub }
      if (parent instanceof Y.ID) {
        return { path: this.#pathOfHolder(parent, start, nesting), key: item.parentSub }
      }
      const reference = item.origin ?? item.rightOrigin
      if (reference === null) break
      const inDoc = this.#findInDoc(reference)
      if (inDoc !== null) return this.ofDocItem(inDoc)
      const inUpdate = this.#findInUpdate(reference)
      if (inUpdate === null) break
      const known = this.#known.get(inUpdate) ?? this.#queued?.placeOf(inUpdate)
      // Without parent info an item goes where its neighbour goes.
      if (known !== undefined) return known
      item = inUpdate
    }
    return this.#unresolvable(start.id)
  }

  /** The path of the type held by item `id` (in the document or in the update). */
  #pathOfHolder(id: Y.ID, of: Y.Item, nesting: number): Path {
    const inDoc = this.#findInDoc(id)
    if (inDoc !== null) {
      if (!(inDoc.content instanceof Y.ContentType)) this.#unresolvable(of.id)
      return this.#pathOfType(inDoc.content.type as Y.AbstractType<unknown>, of)
    }
    const holder = this.#findInUpdate(id)
    if (holder === null || !(holder.content instanceof Y.ContentType))
      return this.#unresolvable(of.id)
    const place = this.ofNew(holder, nesting + 1)
    return [...place.path, place.key ?? '']
  }

  /** Where an item of the document lives. */
  ofDocItem(item: Y.Item): Place {
    const parent = item.parent as Y.AbstractType<unknown> | null
    if (!(parent instanceof Y.AbstractType)) return this.#unresolvable(item.id)
    return { path: this.#pathOfType(parent, item), key: item.parentSub }
  }

  #pathOfType(type: Y.AbstractType<unknown>, of: Y.Item): Path {
    const cached = this.#typePaths.get(type)
    if (cached !== undefined) return cached ?? this.#unresolvable(of.id)
    let path: Path | null
    const holder = type._item
    if (holder === null) {
      try {
        path = [Y.findRootTypeKey(type)]
      } catch {
        path = null
      }
    } else {
      const parent = holder.parent as Y.AbstractType<unknown> | null
      path =
        parent instanceof Y.AbstractType && parent !== type
          ? [...this.#pathOfType(parent, of), holder.parentSub ?? '']
          : null
    }
    this.#typePaths.set(type, path)
    return path ?? this.#unresolvable(of.id)
  }

  #findInDoc(id: Y.ID): Y.Item | null {
    const structs = this.#doc.store.clients.get(id.client)
    if (structs === undefined || Y.getState(this.#doc.store, id.client) <= id.clock) return null
    const struct = structs[Y.findIndexSS(structs, id.clock)]
    return struct instanceof Y.Item ? struct : null
  }

  /** The update's item covering `id`, else the queued one. */
  #findInUpdate(id: Y.ID): Y.Item | null {
    return this.itemAt(id.client, id.clock)
  }
}

/** The item of `items` (in clock order) covering `clock`, or `null`. */
const findCovering = (items: readonly Y.Item[] | undefined, clock: number): Y.Item | null => {
  if (items === undefined) return null
  const item = items[indexAfter(items, clock)]
  return item !== undefined && item.id.clock <= clock ? item : null
}

/** Index of the first of `items` (in clock order) ending after `clock`: a binary search. */
const indexAfter = (items: readonly Y.Item[], clock: number): number => {
  let low = 0
  let high = items.length
  while (low < high) {
    const middle = (low + high) >> 1
    const item = items[middle] as Y.Item
    if (item.id.clock + item.length <= clock) low = middle + 1
    else high = middle
  }
  return low
}
