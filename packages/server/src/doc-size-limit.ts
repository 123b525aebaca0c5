/** The document-size limit (`maxDocBytes`): which edits it refuses with `DOC_TOO_LARGE`. */
import { WeftError } from '@weft/protocol'
import type { Room } from './room.js'

/** An encoded state vector that names no client: the whole document. */
const EMPTY_STATE_VECTOR = new Uint8Array([0])

/** Edits from this size (or a 64th of the limit) are checked against the document's size with them. */
const CHECK_FROM_BYTES = 1024 * 1024

/**
 * `DOC_TOO_LARGE` when the edit (`updates`) is over `maxDocBytes`, or — from 1 MiB or a 64th of
 * the limit, where encoding the document costs little beside the edit itself — would take the
 * room's document over it; `undefined` otherwise.
 */
export const overDocLimit = (
  room: Room,
  updates: readonly Uint8Array[],
  maxDocBytes: number,
): WeftError | undefined => {
  let bytes = 0
  for (const update of updates) bytes += update.length
  if (bytes < Math.min(CHECK_FROM_BYTES, maxDocBytes / 64)) return undefined
  const current = bytes > maxDocBytes ? 0 : room.diff(EMPTY_STATE_VECTOR)
  const docBytes = current instanceof Uint8Array ? current.length : 0
  if (docBytes + bytes <= maxDocBytes) return undefined
  return new WeftError(
    'DOC_TOO_LARGE',
    `the edit (${bytes} bytes) would take the document over the size limit of ${maxDocBytes} bytes`,
  )
}
