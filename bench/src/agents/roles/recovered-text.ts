/**
 * What a document read back after a crash holds, compared with the trace: the exact final text,
 * an earlier state of the trace (a lost tail), or neither (corrupted).
 */
import * as Y from 'yjs'
import { TEXT_NAME } from '../open-doc.js'
import { applyPatch, loadedPatches, loadedText } from './trace-store.js'

/** The verdict on a recovered document. */
export interface RecoveredText {
  readonly recoveredChars: number
  readonly expectedChars: number
  /** Characters of the final text missing (0 when exact; the length difference otherwise). */
  readonly lostChars: number
  readonly exact: boolean
  /** Not exact and not any earlier state of the trace either. */
  readonly corrupted: boolean
}

/**
 * Replays the trace as the writer did (same Yjs client id, so the same clocks) up to the
 * writer's clock in `recovered`, and checks whether the recovered text is the state at that
 * point (or after a following delete-only patch, which does not advance the clock).
 */
const clockOf = (doc: Y.Doc, client: number): number =>
  Y.decodeStateVector(Y.encodeStateVector(doc)).get(client) ?? 0

const isEarlierState = (recovered: Y.Doc, writerClientId: number): boolean => {
  const target = clockOf(recovered, writerClientId)
  const actual = recovered.getText(TEXT_NAME).toString()
  const replica = new Y.Doc()
  replica.clientID = writerClientId
  const text = replica.getText(TEXT_NAME)
  const all = loadedPatches()
  let index = 0
  while (index < all.length && clockOf(replica, writerClientId) < target) {
    applyPatch(text, all[index++]!)
  }
  if (clockOf(replica, writerClientId) !== target) return false
  for (;;) {
    if (text.length === actual.length && text.toString() === actual) return true
    const next = all[index++]
    // Only deletions keep the clock where it is; an insertion would move past `target`.
    if (next === undefined || next[2].length > 0) return false
    applyPatch(text, next)
  }
}

/** Compares `recovered` with the loaded trace as written by `writerClientId`. */
export const analyzeRecovered = (recovered: Y.Doc, writerClientId: number): RecoveredText => {
  const expected = loadedText()
  const actual = recovered.getText(TEXT_NAME).toString()
  const exact = actual === expected
  return {
    recoveredChars: actual.length,
    expectedChars: expected.length,
    lostChars: exact ? 0 : Math.max(0, expected.length - actual.length),
    exact,
    corrupted: !exact && !isEarlierState(recovered, writerClientId),
  }
}
