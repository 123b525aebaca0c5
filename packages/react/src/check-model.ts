/** The check every hook taking a @weft/doc model makes of it. */
import type { Fields, Model } from '@weft/doc'
import * as Y from 'yjs'
import { invalid } from './invalid.js'

/** `model` when it is a model (what `openModel` or `useModel` returns); throws `INVALID_ARGUMENT` naming `hook` otherwise. */
export const checkModel = (
  hook: string,
  model: unknown,
): Model<Readonly<Record<string, Fields>>> => {
  const candidate = model as Partial<Model<Readonly<Record<string, Fields>>>> | null
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    !(candidate.doc instanceof Y.Doc) ||
    typeof candidate.collection !== 'function' ||
    typeof candidate.conflicts !== 'function'
  ) {
    throw invalid(`${hook} needs a model: pass what useModel(handle, schema, { author }) returns`)
  }
  return candidate as Model<Readonly<Record<string, Fields>>>
}
