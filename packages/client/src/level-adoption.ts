/** Adoption: the one batch that moves an orphaned writer namespace of a document into the adopter's. */
import type { OutboxRecord } from './local-store.js'
import {
  encodeMeta,
  headOf,
  numberedKey,
  type Op,
  type WriterHead,
  type WriterKeys,
} from './level-layout.js'

/** What adopting a namespace writes, and what the adopter's load returns of it. */
export interface Adoption {
  /** Puts into the adopter's namespace, the adopter's new meta, and a delete of every orphan key. */
  readonly ops: Op[]
  /** The adopter's head once `ops` are written. */
  readonly head: WriterHead
  /** The orphan's snapshot and log, now the adopter's newest log entries, in that order. */
  readonly updates: Uint8Array[]
  /** The orphan's outbox records under their new refs, ascending. */
  readonly outbox: OutboxRecord[]
}

/**
 * Plans the adoption of `orphan` (read while holding its lock) by the writer whose keys start
 * with `ownPrefix` and whose head is `head`. The orphan's snapshot and log entries become log
 * entries of the adopter; its outbox records move to the adopter's outbox above `head.lastRef`,
 * so they are sent again and no ref of the adopter is overwritten. Refs keep their order and are
 * shifted only as far as needed (not at all when they are all above `head.lastRef`); the new
 * `lastRef` also covers the orphan's own. Pure: the caller writes `ops` in one batch.
 */
export const planAdoption = (
  orphan: WriterKeys,
  ownPrefix: string,
  head: WriterHead,
  doc: string,
): Adoption => {
  const ops: Op[] = []
  const next: WriterHead = { ...head }
  const updates: Uint8Array[] = []
  const adoptState = (value: Uint8Array): void => {
    ops.push({ type: 'put', key: numberedKey(ownPrefix, 'log', next.nextSeq++), value })
    updates.push(value)
  }
  if (orphan.snapshot !== undefined) adoptState(orphan.snapshot)
  for (const { value } of orphan.log) adoptState(value)
  const outbox: OutboxRecord[] = []
  const firstRef = orphan.outbox[0]?.ref
  const shift = firstRef === undefined ? 0 : Math.max(0, head.lastRef + 1 - firstRef)
  for (const { ref, value } of orphan.outbox) {
    const moved = ref + shift
    ops.push({ type: 'put', key: numberedKey(ownPrefix, 'outbox', moved), value })
    outbox.push({ ref: moved, update: value })
    next.lastRef = Math.max(next.lastRef, moved)
  }
  next.lastRef = Math.max(next.lastRef, headOf(orphan, doc).lastRef)
  ops.push({ type: 'put', key: `${ownPrefix}meta`, value: encodeMeta(next) })
  for (const key of orphan.keys) ops.push({ type: 'del', key })
  return { ops, head: next, updates, outbox }
}
