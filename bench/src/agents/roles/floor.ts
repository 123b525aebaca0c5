/** The floor: raw Yjs in one process, no network, no storage. */
import * as Y from 'yjs'
import { nowMs } from '../../clock.js'
import { TEXT_NAME } from '../open-doc.js'
import type { Methods } from './methods.js'
import { applyPatch, loadedPatches, loadedText } from './trace-store.js'

/** What `floor.run` measures, in ms (and the snapshot size in bytes). */
export interface FloorResult {
  /** Apply the trace to a Y.Text, one transaction per patch, no listeners. */
  readonly replayMs: number
  /** Apply the updates that replay produced, one by one, to a fresh doc. */
  readonly applyUpdatesMs: number
  /** `Y.encodeStateAsUpdate` of the result. */
  readonly encodeMs: number
  /** Load that snapshot into a fresh doc and read its text. */
  readonly loadMs: number
  readonly snapshotBytes: number
  readonly correct: boolean
}

const timed = <T>(work: () => T): [T, number] => {
  const started = nowMs()
  const value = work()
  return [value, nowMs() - started]
}

const floor = (): FloorResult => {
  const patches = loadedPatches()
  const expected = loadedText()
  // Untimed first passes: collect the per-patch updates, and warm up the JIT for both paths.
  const updates: Uint8Array[] = []
  const source = new Y.Doc()
  source.on('update', (update: Uint8Array) => updates.push(update))
  for (const patch of patches) applyPatch(source.getText(TEXT_NAME), patch)
  const warm = new Y.Doc()
  for (const update of updates) Y.applyUpdate(warm, update)
  const [replayed, replayMs] = timed(() => {
    const doc = new Y.Doc()
    const text = doc.getText(TEXT_NAME)
    for (const patch of patches) applyPatch(text, patch)
    return doc
  })
  const [applied, applyUpdatesMs] = timed(() => {
    const doc = new Y.Doc()
    for (const update of updates) Y.applyUpdate(doc, update)
    return doc
  })
  const [snapshot, encodeMs] = timed(() => Y.encodeStateAsUpdate(replayed))
  const [loaded, loadMs] = timed(() => {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, snapshot)
    return doc.getText(TEXT_NAME).toString()
  })
  const correct =
    replayed.getText(TEXT_NAME).toString() === expected &&
    applied.getText(TEXT_NAME).toString() === expected &&
    loaded === expected
  return { replayMs, applyUpdatesMs, encodeMs, loadMs, snapshotBytes: snapshot.length, correct }
}

export const floorMethods: Methods = {
  'floor.run': async () => floor(),
}
