/**
 * The versioned key layout (v1). Every key starts with `v1:`; a document's keys share the prefix
 * `v1:doc:<percent-encoded name>:` so one range holds the whole document, and log keys end in a
 * 16-digit sequence number so they sort in write order:
 *
 * - `v1:format` → the layout version marker
 * - `v1:encryption` → present once the store has been opened with encryption keys
 * - `v1:doc:<name>:meta` → JSON `{ "compactedThrough": <seq> }`
 * - `v1:doc:<name>:snapshot` → a Yjs v1 update holding the compacted state
 * - `v1:doc:<name>:log:<seq>` → a log record: the updates of one append (see `log-record.ts` in @weft/server)
 * - `v1:doc:<name>:hist:<seq>` → a log record folded by compaction, kept for the history window
 * - `v1:doc:<name>:histbase` → a Yjs update: the state before the oldest `hist` record
 * - `v1:feed:<position>` → JSON: one change of the change feed (document, sequence, who, when…)
 * - `v1:feedmeta` → JSON `{ "head": <position>, "prunedThrough": <position> }`
 * - `v1:feedseq:<name>` → JSON `{ "seq": <n> }`: the document's last feed sequence number (kept
 *   outside the document's keys so a deletion does not reset it)
 * - `v1:state:<key>` → JSON: the relay's own small records (webhook cursors, dead letters)
 */

/** The key holding the layout version marker. */
export const FORMAT_KEY = 'v1:format'

/** The marker's value for this layout. */
export const FORMAT_VALUE = 'weft-level-1'

/** The key marking a store whose values may be encrypted; its value is the cipher's name. */
export const ENCRYPTION_KEY = 'v1:encryption'

const SEQ_DIGITS = 16
const DOCS_PREFIX = 'v1:doc:'

// encodeURIComponent leaves no ':' in a name, so the separator cannot be forged.
export const docPrefix = (name: string): string => `${DOCS_PREFIX}${encodeURIComponent(name)}:`

/** Key of a document's metadata. */
export const metaKey = (name: string): string => `${docPrefix(name)}meta`

/** Key of a document's snapshot. */
export const snapshotKey = (name: string): string => `${docPrefix(name)}snapshot`

/** Key of a document's log record `seq`. */
export const logKey = (name: string, seq: number): string =>
  `${docPrefix(name)}log:${String(seq).padStart(SEQ_DIGITS, '0')}`

/** Range options covering a document's log records, optionally only those up to `throughSeq`. */
export const logRange = (name: string, throughSeq?: number): { gt: string; lte: string } => ({
  gt: `${docPrefix(name)}log:`,
  lte: throughSeq === undefined ? `${docPrefix(name)}log:~` : logKey(name, throughSeq),
})

/**
 * Range options covering what `load` reads of a document in one pass: its log records, then its
 * metadata and its snapshot (`log:…` < `meta` < `snapshot`), and not its history.
 */
export const loadRange = (name: string): { gt: string; lte: string } => ({
  gt: `${docPrefix(name)}log:`,
  lte: snapshotKey(name),
})

/** Key of a record kept for history after compaction folded it. */
export const histKey = (name: string, seq: number): string =>
  `${docPrefix(name)}hist:${String(seq).padStart(SEQ_DIGITS, '0')}`

/** Range options covering a document's history records. */
export const histRange = (name: string): { gt: string; lte: string } => ({
  gt: `${docPrefix(name)}hist:`,
  lte: `${docPrefix(name)}hist:~`,
})

/** Key of the state before a document's oldest history record. */
export const histBaseKey = (name: string): string => `${docPrefix(name)}histbase`

/** The sequence number at the end of a log key. */
export const seqOfLogKey = (key: string): number => Number(key.slice(-SEQ_DIGITS))

/** Range options covering every document's keys (and no marker). */
export const docsRange = (): { gt: string; lt: string } => ({
  gt: DOCS_PREFIX,
  // ';' follows ':' in code-point order, so this bound ends the `v1:doc:` prefix.
  lt: 'v1:doc;',
})

/** The key of the change feed's head and pruned position. */
export const FEED_META_KEY = 'v1:feedmeta'

/** Key of the feed entry at `position`. */
export const feedKey = (position: number): string =>
  `v1:feed:${String(position).padStart(SEQ_DIGITS, '0')}`

/** Range options covering the feed entries after `position` (all of them for 0). */
export const feedRange = (after = 0): { gt: string; lt: string } => ({
  gt: after > 0 ? feedKey(after) : 'v1:feed:',
  lt: 'v1:feed;',
})

/** Key of a document's last feed sequence number. */
export const feedSeqKey = (name: string): string => `v1:feedseq:${encodeURIComponent(name)}`

/** Key of a state record. */
export const stateKey = (key: string): string => `v1:state:${key}`

/** Range options covering the state records whose keys start with `prefix`. */
export const stateRange = (prefix: string): { gte: string; lt: string } => ({
  gte: stateKey(prefix),
  // U+10FFFF sorts after every character a key can hold (LevelDB compares UTF-8 bytes).
  lt: `${stateKey(prefix)}\u{10ffff}`,
})

/** Range options covering every value the store may encrypt: all `v1:` keys but the markers. */
export const sealedRange = (): { gt: string; lt: string } => ({ gt: 'v1:', lt: 'v1;' })

/** Names a document key for error messages: `log record 7 of document "notes"`. */
export const describeKey = (key: string): string => {
  if (key.startsWith('v1:feed:')) return `feed entry ${seqOfLogKey(key)}`
  if (key === FEED_META_KEY) return 'feed metadata'
  if (key.startsWith('v1:feedseq:'))
    return `feed sequence of document "${decodeURIComponent(key.slice('v1:feedseq:'.length))}"`
  if (key.startsWith('v1:state:')) return `state record "${key.slice('v1:state:'.length)}"`
  if (!key.startsWith(DOCS_PREFIX)) return `value at "${key}"`
  const rest = key.slice(DOCS_PREFIX.length)
  const separator = rest.indexOf(':')
  if (separator < 0) return `value at "${key}"`
  const doc = `document "${decodeURIComponent(rest.slice(0, separator))}"`
  const record = rest.slice(separator + 1)
  if (record.startsWith('log:')) return `log record ${seqOfLogKey(key)} of ${doc}`
  if (record.startsWith('hist:')) return `history record ${seqOfLogKey(key)} of ${doc}`
  return `${record === 'meta' ? 'metadata' : record} of ${doc}`
}
