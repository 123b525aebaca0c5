/** The value of a log key: a format byte, who and when, then the Yjs update (lib0 encoding). */
import type { AppendEntry } from '@weft/server'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

const ENTRY_FORMAT = 1

/** Encodes a log entry: varUint format, varString author, varString correlationId, varUint receivedAtMs, varUint8Array update. */
export const encodeLogEntry = (entry: AppendEntry): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, ENTRY_FORMAT)
  encoding.writeVarString(encoder, entry.meta.author)
  encoding.writeVarString(encoder, entry.meta.correlationId)
  encoding.writeVarUint(encoder, Math.max(0, Math.floor(entry.meta.receivedAtMs)))
  encoding.writeVarUint8Array(encoder, entry.update)
  return encoding.toUint8Array(encoder)
}

/** Decodes a log entry written by {@link encodeLogEntry}; throws on any other format. */
export const decodeLogEntry = (bytes: Uint8Array): AppendEntry => {
  const decoder = decoding.createDecoder(bytes)
  const format = decoding.readVarUint(decoder)
  if (format !== ENTRY_FORMAT) throw new Error(`unknown log entry format ${format}`)
  const author = decoding.readVarString(decoder)
  const correlationId = decoding.readVarString(decoder)
  const receivedAtMs = decoding.readVarUint(decoder)
  const update = decoding.readVarUint8Array(decoder)
  return { update, meta: { author, correlationId, receivedAtMs } }
}
