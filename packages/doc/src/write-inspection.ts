/** What an update would write into a document: new structs by client, deletions, root types. */
import * as Y from 'yjs'

/** The effect an update would have on a document, found without applying it. */
export interface WriteInspection {
  /** Yjs client ids under which the update adds structs the document does not have yet. */
  readonly newStructClients: ReadonlySet<number>
  /** True when the update deletes something the document still holds undeleted (or lacks). */
  readonly deletes: boolean
  /** True when applying the update would change the document. */
  readonly changes: boolean
  /**
   * Root types (`doc.getText('body')` is `body`) of everything the update adds or deletes, or
   * `null` when some could not be resolved (a parent the document does not have yet).
   */
  readonly rootTypes: ReadonlySet<string> | null
}

type Decoded = ReturnType<typeof Y.decodeUpdate>

/**
 * Inspects a decoded update against `doc` (the room's document, with everything applied so far).
 * Structs the document already has and deletions it already holds are ignored: re-sending known
 * content changes nothing and is never a write.
 */
export const inspectWrite = (doc: Y.Doc, decoded: Decoded): WriteInspection => {
  const newStructClients = new Set<number>()
  const rootTypes = new Set<string>()
  let resolvable = true
  const byId = new Map<number, Y.Item[]>()
  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Item)) continue
    const list = byId.get(struct.id.client)
    if (list === undefined) byId.set(struct.id.client, [struct])
    else list.push(struct)
  }
  for (const struct of decoded.structs) {
    if (struct instanceof Y.Skip) continue
    const known = Y.getState(doc.store, struct.id.client)
    if (struct.id.clock + struct.length <= known) continue
    newStructClients.add(struct.id.client)
    if (!(struct instanceof Y.Item)) continue
    const root = rootOfNew(doc, struct, byId, 0)
    if (root === null) resolvable = false
    else rootTypes.add(root)
  }
  let deletes = false
  for (const [client, ranges] of decoded.ds.clients) {
    const structs = doc.store.clients.get(client)
    for (const { clock, len } of ranges) {
      const outcome = inspectDeletion(structs, clock, len, rootTypes)
      if (outcome === 'none') continue
      deletes = true
      if (outcome === 'unresolved') resolvable = false
    }
  }
  return {
    newStructClients,
    deletes,
    changes: newStructClients.size > 0 || deletes,
    rootTypes: resolvable ? rootTypes : null,
  }
}

/** How far parent chains are followed inside one update before giving up. */
const MAX_DEPTH = 10_000

/** The root type name an item not yet in the document would belong to, or `null`. */
const rootOfNew = (
  doc: Y.Doc,
  item: Y.Item,
  byId: ReadonlyMap<number, Y.Item[]>,
  depth: number,
): string | null => {
  if (depth > MAX_DEPTH) return null
  const parent = item.parent as unknown
  if (typeof parent === 'string') return parent
  // A parent (nested type) or a neighbour (origin) identified by id: in the doc or in the update.
  const reference = parent instanceof Y.ID ? parent : (item.origin ?? item.rightOrigin ?? null)
  if (reference === null) return null
  // A nested type's parent item, or a neighbour, has the same root as the item itself.
  const existing = findInDoc(doc, reference)
  if (existing !== null) return rootOfExisting(existing)
  const inUpdate = findInList(byId.get(reference.client), reference.clock)
  return inUpdate === null ? null : rootOfNew(doc, inUpdate, byId, depth + 1)
}

/** The root type name of an item the document holds. */
const rootOfExisting = (item: Y.Item): string | null => {
  let type = item.parent as Y.AbstractType<unknown> | null
  for (let depth = 0; type !== null && depth < MAX_DEPTH; depth++) {
    const owner = type._item
    if (owner === null) {
      try {
        return Y.findRootTypeKey(type)
      } catch {
        return null
      }
    }
    type = owner.parent as Y.AbstractType<unknown> | null
  }
  return null
}

const findInDoc = (doc: Y.Doc, id: Y.ID): Y.Item | null => {
  const structs = doc.store.clients.get(id.client)
  if (structs === undefined || Y.getState(doc.store, id.client) <= id.clock) return null
  const struct = structs[Y.findIndexSS(structs, id.clock)]
  return struct instanceof Y.Item ? struct : null
}

const findInList = (items: readonly Y.Item[] | undefined, clock: number): Y.Item | null => {
  if (items === undefined) return null
  for (const item of items) {
    if (item.id.clock <= clock && clock < item.id.clock + item.length) return item
  }
  return null
}

/**
 * Whether deleting `clock…clock+len` of a client's structs changes the document: `none` when all
 * of it is already deleted, `unresolved` when the document lacks some of it, else `deletes`
 * (adding the root types of what it deletes to `rootTypes`).
 */
const inspectDeletion = (
  structs: Array<Y.Item | Y.GC> | undefined,
  clock: number,
  len: number,
  rootTypes: Set<string>,
): 'none' | 'deletes' | 'unresolved' => {
  if (structs === undefined || structs.length === 0) return 'unresolved'
  const last = structs[structs.length - 1] as Y.Item | Y.GC
  if (last.id.clock + last.length < clock + len) return 'unresolved'
  let outcome: 'none' | 'deletes' | 'unresolved' = 'none'
  for (let index = Y.findIndexSS(structs, clock); index < structs.length; index++) {
    const struct = structs[index] as Y.Item | Y.GC
    if (struct.id.clock >= clock + len) break
    if (struct.deleted) continue
    const root = struct instanceof Y.Item ? rootOfExisting(struct) : null
    if (root === null) return 'unresolved'
    rootTypes.add(root)
    outcome = 'deletes'
  }
  return outcome
}
