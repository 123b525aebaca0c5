/**
 * A stored log record: one per append call, holding every update of that call with who sent it
 * and when (lib0 encoding). Every DocStore keeps records in this format (a LevelDB value, a
 * PostgreSQL row), so one record per batch rather than per update keeps a fast writer's thousands
 * of updates to one write.
 */
import type { AppendEntry } from './doc-store.js'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

const RECORD_FORMAT = 1

/**
 * Encodes a log record: varUint format, varUint count, then per entry varString author,
 * varString correlationId, varUint receivedAtMs, varUint8Array update.
 */
export const encodeLogRecord = (entries: readonly AppendEntry[]): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, RECORD_FORMAT)
  encoding.writeVarUint(encoder, entries.length)
  for (const { meta, update } of entries) {
    encoding.writeVarString(encoder, meta.author)
    encoding.writeVarString(encoder, meta.correlationId)
    encoding.writeVarUint(encoder, Math.max(0, Math.floor(meta.receivedAtMs)))
    encoding.writeVarUint8Array(encoder, update)
  }
  return encoding.toUint8Array(encoder)
}

/** Decodes a record written by {@link encodeLogRecord}; throws on any other format. */
export const decodeLogRecord = (bytes: Uint8Array): AppendEntry[] => {
  const decoder = decoding.createDecoder(bytes)
  const format = decoding.readVarUint(decoder)
  if (format !== RECORD_FORMAT) throw new Error(`unknown log record format ${format}`)
  const count = decoding.readVarUint(decoder)
  const entries: AppendEntry[] = []
  for (let index = 0; index < count; index++) {
    const author = decoding.readVarString(decoder)
    const correlationId = decoding.readVarString(decoder)
    const receivedAtMs = decoding.readVarUint(decoder)
    const update = decoding.readVarUint8Array(decoder)
    entries.push({ update, meta: { author, correlationId, receivedAtMs } })
  }
  return entries
}

/**
 * The latest `receivedAtMs` of a record's entries (`-Infinity` for none). A loop, not
 * `Math.max(...)`: one record can hold hundreds of thousands of entries, past the engine's limit
 * on call arguments.
 */
export const newestReceivedAtMs = (entries: readonly AppendEntry[]): number => {
  let newest = Number.NEGATIVE_INFINITY
  for (const entry of entries)
    if (entry.meta.receivedAtMs > newest) newest = entry.meta.receivedAtMs
  return newest
}
