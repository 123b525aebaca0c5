/** The `automerge-paper` trace as the workloads use it: a prefix of its patches and that prefix's text. */
import { applyTxn, loadTrace, type Patch, type Trace } from '@weft/testkit'
import * as Y from 'yjs'

/** The trace every trace workload replays. */
export const TRACE_NAME = 'automerge-paper'

let cached: Trace | null = null
const texts = new Map<number, string>()
const trace = (): Trace => (cached ??= loadTrace(TRACE_NAME))

/** The number of patches in the whole trace. */
export const tracePatchCount = (): number => trace().txns.length

/** The first `count` patches, one per transaction of the trace (each holds exactly one). */
export const tracePatches = (count: number): Patch[] =>
  trace()
    .txns.slice(0, count)
    .flatMap((txn) => txn.patches)

/** The exact text after the first `count` patches (the trace's `endContent` for all of them). */
export const traceText = (count: number): string => {
  const known = texts.get(count)
  if (known !== undefined) return known
  const all = trace()
  if (count >= all.txns.length) return all.endContent
  const doc = new Y.Doc()
  const text = doc.getText('text')
  text.insert(0, all.startContent)
  for (const patch of tracePatches(count)) applyTxn(text, [patch])
  texts.set(count, text.toString())
  return text.toString()
}
