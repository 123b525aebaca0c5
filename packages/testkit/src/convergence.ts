/** Convergence checks in the shape of Yjs's own test helper: content and state vectors. */
import { expect } from 'vitest'
import * as Y from 'yjs'

/** Asserts that every doc has the same state vector and the same JSON content. */
export const expectConverged = (docs: readonly Y.Doc[]): void => {
  const [first, ...rest] = docs
  if (first === undefined) return
  const stateVector = Y.decodeStateVector(Y.encodeStateVector(first))
  const content = first.toJSON()
  for (const doc of rest) {
    expect(Y.decodeStateVector(Y.encodeStateVector(doc))).toEqual(stateVector)
    expect(doc.toJSON()).toEqual(content)
  }
  for (const doc of docs) {
    expect(doc.store.pendingStructs).toBeNull()
    expect(doc.store.pendingDs).toBeNull()
  }
}

/** True when the two docs have equal state vectors. */
export const sameStateVector = (a: Y.Doc, b: Y.Doc): boolean => {
  const left = Y.decodeStateVector(Y.encodeStateVector(a))
  const right = Y.decodeStateVector(Y.encodeStateVector(b))
  if (left.size !== right.size) return false
  for (const [client, clock] of left) if (right.get(client) !== clock) return false
  return true
}

/**
 * Resolves once every doc has the same state vector, re-checking on each doc's updates; rejects
 * after `timeoutMs` listing the state vectors.
 */
export const untilSameState = (docs: readonly Y.Doc[], timeoutMs = 10_000): Promise<void> =>
  new Promise((resolve, reject) => {
    const done = (): boolean => docs.every((doc) => sameStateVector(doc, docs[0] as Y.Doc))
    const finish = (error?: Error): void => {
      clearTimeout(timer)
      for (const doc of docs) doc.off('update', check)
      if (error === undefined) resolve()
      else reject(error)
    }
    const check = (): void => {
      if (done()) finish()
    }
    const timer = setTimeout(() => {
      const vectors = docs.map((doc) =>
        JSON.stringify([...Y.decodeStateVector(Y.encodeStateVector(doc))]),
      )
      finish(new Error(`docs did not converge within ${timeoutMs} ms: ${vectors.join(' vs ')}`))
    }, timeoutMs)
    for (const doc of docs) doc.on('update', check)
    check()
  })
