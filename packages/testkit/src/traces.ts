/** Editing traces (real keystroke histories) for tests and benchmarks. */
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import type * as Y from 'yjs'

/** One patch: at `position` delete `deleteCount` characters, then insert `insertText`. */
export type Patch = readonly [position: number, deleteCount: number, insertText: string]

/** A sequential editing trace. */
export interface Trace {
  readonly startContent: string
  readonly endContent: string
  readonly txns: ReadonlyArray<{ readonly patches: readonly Patch[] }>
}

/** The traces shipped in `packages/testkit/traces/`. */
export type TraceName = 'automerge-paper' | 'seph-blog1'

/** Loads and parses a trace. */
export const loadTrace = (name: TraceName): Trace => {
  const file = new URL(`../traces/${name}.json.gz`, import.meta.url)
  return JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as Trace
}

/** Applies one transaction's patches to a Y.Text inside one Yjs transaction. */
export const applyTxn = (text: Y.Text, patches: readonly Patch[]): void => {
  const doc = text.doc
  const apply = (): void => {
    for (const [position, deleteCount, insertText] of patches) {
      if (deleteCount > 0) text.delete(position, deleteCount)
      if (insertText.length > 0) text.insert(position, insertText)
    }
  }
  if (doc === null) apply()
  else doc.transact(apply)
}
