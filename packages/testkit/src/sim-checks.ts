/** The convergence checks of the simulation: replicas compared by state vector and content. */
import * as Y from 'yjs'

export const vectorOf = (doc: Y.Doc): string =>
  JSON.stringify([...Y.decodeStateVector(Y.encodeStateVector(doc))].sort((a, b) => a[0] - b[0]))

/** JSON with object keys sorted: Y.Map keeps keys in arrival order, which differs by replica. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  )

/** The document's content, every root type the simulation writes read with its type. */
const contentOf = (doc: Y.Doc): Record<string, unknown> => {
  doc.getText('text')
  for (const name of ['map', 'seen', 'tasks', 'weft:schema']) doc.getMap(name)
  doc.getArray('items')
  return doc.toJSON()
}

/** The first root type whose state vector or content differs between two replicas. */
const describeDifference = (a: Y.Doc, b: Y.Doc): string => {
  if (vectorOf(a) !== vectorOf(b)) return `state vectors ${vectorOf(a)} vs ${vectorOf(b)}`
  const left = contentOf(a)
  const right = contentOf(b)
  for (const key of new Set([...Object.keys(left), ...Object.keys(right)])) {
    const [x, y] = [canonical(left[key]), canonical(right[key])]
    if (x !== y) return `root "${key}": ${String(x).slice(0, 300)} vs ${String(y).slice(0, 300)}`
  }
  return 'same content'
}

/** What differs between replicas (each against the first), and the first's state. */
export const compareReplicas = (
  replicas: ReadonlyArray<{ readonly label: string; readonly doc: Y.Doc }>,
): { firstVector: string; firstContent: string; divergences: number; failures: string[] } => {
  const [first] = replicas
  if (first === undefined)
    return { firstVector: '', firstContent: '', divergences: 0, failures: [] }
  const firstVector = vectorOf(first.doc)
  const firstContent = canonical(contentOf(first.doc))
  const failures: string[] = []
  let divergences = 0
  for (const { label, doc } of replicas) {
    if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null)
      failures.push(`${label}: structs or deletions still pending`)
    if (vectorOf(doc) !== firstVector || canonical(contentOf(doc)) !== firstContent) {
      divergences += 1
      failures.push(`${label}: differs from ${first.label}: ${describeDifference(first.doc, doc)}`)
    }
  }
  return { firstVector, firstContent, divergences, failures }
}
