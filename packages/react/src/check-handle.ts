/** The check every hook taking a DocHandle makes of it. */
import { DocHandle } from '@weft/client'
import { invalid } from './invalid.js'

/** `handle` when it is a `DocHandle`; throws `INVALID_ARGUMENT` naming `hook` otherwise. */
export const checkHandle = (hook: string, handle: unknown): DocHandle => {
  if (!(handle instanceof DocHandle)) {
    throw invalid(
      `${hook} needs a DocHandle: pass the one useDoc(name) or client.open(name) returns`,
    )
  }
  return handle
}
