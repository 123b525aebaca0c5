/** Where a trace role's text is: the root text of workloads 2–12, or the paper record's body (13). */
import type * as Y from 'yjs'
import { paperBodyOf } from '../paper-record.js'
import { TEXT_NAME } from './open-doc.js'

/** `root`: the root `Y.Text` every workload edits; `paper`: the text field of a record. */
export type TextPlace = 'root' | 'paper'

/** The text at `place` in `doc`, or null while the paper record has not arrived. */
export const textAt = (doc: Y.Doc, place: TextPlace): Y.Text | null =>
  place === 'root' ? doc.getText(TEXT_NAME) : paperBodyOf(doc)
