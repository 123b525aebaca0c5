/**
 * The trace an agent works on, sent by the harness (`trace.load`) so that agents neither parse
 * the trace file nor load the test kit: they start faster and every agent has the same patches.
 */
import type { Patch } from '@weft/testkit'
import type * as Y from 'yjs'
import type { Methods } from './methods.js'

let patches: readonly Patch[] = []
let expected = ''

/** The patches sent by the harness, in order. */
export const loadedPatches = (): readonly Patch[] => patches

/** The exact text after every loaded patch. */
export const loadedText = (): string => expected

/** Applies one patch in its own Yjs transaction: delete, then insert, at its position. */
export const applyPatch = (text: Y.Text, [position, deleteCount, insertText]: Patch): void => {
  const apply = (): void => {
    if (deleteCount > 0) text.delete(position, deleteCount)
    if (insertText.length > 0) text.insert(position, insertText)
  }
  if (text.doc === null) apply()
  else text.doc.transact(apply)
}

export const traceStoreMethods: Methods = {
  'trace.load': async (params) => {
    ;({ patches, expected } = params as { patches: Patch[]; expected: string })
    return { patches: patches.length, chars: expected.length }
  },
}
