/** A document's metadata record (`v1:doc:<name>:meta`): how far its log was compacted, and when. */

/** What the metadata record holds. */
export interface DocMeta {
  compactedThrough: number
  /** When the log was last folded into the snapshot (ms since the epoch). */
  compactedAtMs?: number
}

const textDecoder = new TextDecoder()

/** Parses a metadata record's (decrypted) bytes; a missing record is "never compacted". */
export const parseMeta = (bytes: Uint8Array | undefined): DocMeta => {
  if (bytes === undefined) return { compactedThrough: 0 }
  const parsed = JSON.parse(textDecoder.decode(bytes)) as Partial<DocMeta>
  return {
    compactedThrough: typeof parsed.compactedThrough === 'number' ? parsed.compactedThrough : 0,
    ...(typeof parsed.compactedAtMs === 'number' ? { compactedAtMs: parsed.compactedAtMs } : {}),
  }
}
