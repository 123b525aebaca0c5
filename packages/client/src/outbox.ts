/** Outbox: local edits not yet known to be durable on the relay, by ref. */
import { stateVectorCovers, summarizeUpdate, type UpdateSummary } from '@weft/doc'
import type { OutboxRecord } from './local-store.js'

interface Entry {
  readonly update: Uint8Array
  /** When it was added (ms since the epoch; for a restored edit, when it was restored). */
  readonly atMs: number
  /**
   * For an entry that merged several edits: the refs it stands for that the relay has not
   * acknowledged, as ascending inclusive ranges `[first, last, first, last, …]`, its own ref the
   * last of them. Absent: its own ref alone.
   */
  spans?: number[]
  summary?: UpdateSummary | null
}

/** What {@link Outbox.mergeAll} did: the one entry left, and the refs of the entries it replaced. */
export interface OutboxMerge {
  /** The merged entry, under the newest ref it replaced. */
  readonly record: OutboxRecord
  /** The refs of the other entries, now gone. */
  readonly replaced: readonly number[]
}

/**
 * Holds local edits until the relay reports them durable. Refs increase with every edit and are
 * never reused (the last one is kept in the local store). `saved(ref)` covers every edit up to
 * `ref`: the relay acknowledges in order, and a resync after reconnecting resends everything
 * under the newest ref. A durable state vector also settles edits that only add structs it
 * covers (an acknowledgement lost with a connection); edits that delete need their ref.
 *
 * Entries can be merged into one ({@link mergeAll}) that carries the newest of their refs: it is
 * settled only once the relay acknowledges that ref, while `edits`, `oldestRef` and `oldestAtMs`
 * still count and date each edit it stands for.
 */
export class Outbox {
  readonly #entries = new Map<number, Entry>()
  #bytes = 0
  #edits = 0
  #lastRef: number
  /** The entry the last merge made, while it waits. */
  #mergedRef: number | null = null

  constructor(lastRef = 0) {
    this.#lastRef = lastRef
  }

  /** Number of entries waiting (a merged entry is one). */
  get size(): number {
    return this.#entries.size
  }

  /** Number of edits waiting: a merged entry counts every edit it stands for. */
  get edits(): number {
    return this.#edits
  }

  /** Total bytes of the entries waiting. */
  get bytes(): number {
    return this.#bytes
  }

  /** Bytes of the entry the last merge made, while it waits; 0 otherwise. */
  get mergedBytes(): number {
    return this.#mergedRef === null ? 0 : (this.#entries.get(this.#mergedRef)?.update.length ?? 0)
  }

  /** The newest ref handed out. */
  get lastRef(): number {
    return this.#lastRef
  }

  /** The oldest ref waiting (inside a merged entry, the oldest it stands for), or `undefined`. */
  get oldestRef(): number | undefined {
    for (const [ref, entry] of this.#entries) return entry.spans?.[0] ?? ref
    return undefined
  }

  /**
   * When the oldest edit waiting was added (ms since the epoch), or `null` when none is. A merged
   * entry keeps its oldest edit's time, even once the relay has saved that edit.
   */
  get oldestAtMs(): number | null {
    for (const entry of this.#entries.values()) return entry.atMs
    return null
  }

  /** The refs of the entries waiting, ascending. */
  refs(): number[] {
    return [...this.#entries.keys()]
  }

  /** Adds an edit under a fresh ref, made at `atMs` (ms since the epoch). */
  push(update: Uint8Array, atMs: number): OutboxRecord {
    const ref = ++this.#lastRef
    this.#add(ref, { update, atMs })
    return { ref, update }
  }

  /** Restores an edit read from the local store at `atMs` (the store keeps no times). */
  restore(record: OutboxRecord, atMs: number): void {
    this.#add(record.ref, { update: record.update, atMs })
    this.#lastRef = Math.max(this.#lastRef, record.ref)
  }

  /** The update that carries edit `ref` (its own, or the merged entry's), if it waits. */
  get(ref: number): Uint8Array | undefined {
    const key = this.keyOf(ref)
    return key === undefined ? undefined : this.#entries.get(key)?.update
  }

  /** The ref of the entry that carries edit `ref` (itself, or a merged entry's), if it waits. */
  keyOf(ref: number): number | undefined {
    if (this.#entries.has(ref)) return ref
    for (const [key, entry] of this.#entries) {
      if (key > ref) return entry.spans !== undefined && inSpans(entry.spans, ref) ? key : undefined
    }
    return undefined
  }

  /** The oldest edit the entry `ref` stands for (itself unless merged), or `undefined`. */
  firstRefOf(ref: number): number | undefined {
    const entry = this.#entries.get(ref)
    return entry === undefined ? undefined : (entry.spans?.[0] ?? ref)
  }

  /** Removes the entry `ref`, with every edit it stands for; returns whether it was waiting. */
  remove(ref: number): boolean {
    const entry = this.#entries.get(ref)
    if (entry === undefined) return false
    this.#entries.delete(ref)
    this.#bytes -= entry.update.length
    this.#edits -= countOf(entry)
    if (this.#mergedRef === ref) this.#mergedRef = null
    return true
  }

  /**
   * Removes every entry with a ref up to `ref`; returns the refs settled: theirs, then the
   * merged refs up to `ref` of the entry after them, which stays until its own ref is
   * acknowledged (it carries later edits too) but no longer counts those.
   */
  acknowledge(ref: number): number[] {
    const settled: number[] = []
    let next: [number, Entry] | undefined
    for (const each of this.#entries) {
      if (each[0] > ref) {
        next = each
        break
      }
      settled.push(each[0])
    }
    for (const key of settled) this.remove(key)
    if (next?.[1].spans !== undefined) {
      const trimmed = trimSpans(next[1].spans, ref)
      this.#edits -= trimmed.length
      for (const each of trimmed) settled.push(each)
    }
    return settled
  }

  /**
   * Replaces every entry with one carrying `update`, which must include them all (for example
   * the document's state beyond what the relay reported durable). It takes the newest entry's
   * ref and the oldest one's time, and stands for every edit they stood for. Needs an entry.
   */
  mergeAll(update: Uint8Array): OutboxMerge {
    const spans: number[] = []
    let atMs = Number.POSITIVE_INFINITY
    for (const [ref, entry] of this.#entries) {
      atMs = Math.min(atMs, entry.atMs)
      appendSpans(spans, entry.spans ?? [ref, ref])
    }
    const ref = spans[spans.length - 1]
    if (ref === undefined) throw new RangeError('nothing to merge: the outbox is empty')
    const replaced = this.refs().filter((key) => key !== ref)
    this.#entries.clear()
    this.#bytes = 0
    this.#edits = 0
    this.#add(ref, spans[0] === ref ? { update, atMs } : { update, atMs, spans })
    this.#mergedRef = ref
    return { record: { ref, update }, replaced }
  }

  /** Removes every edit whose structs `stateVector` covers and that deletes nothing; returns their refs. */
  settleCovered(stateVector: ReadonlyMap<number, number>): number[] {
    const removed: number[] = []
    for (const [ref, entry] of this.#entries) {
      if (entry.summary === undefined) {
        const result = summarizeUpdate(entry.update)
        entry.summary = result.ok ? result.summary : null
      }
      const summary = entry.summary
      if (
        summary !== null &&
        !summary.hasDeletes &&
        !summary.isEmpty &&
        stateVectorCovers(stateVector, summary)
      ) {
        removed.push(ref)
      }
    }
    for (const ref of removed) this.remove(ref)
    return removed
  }

  #add(ref: number, entry: Entry): void {
    this.#entries.set(ref, entry)
    this.#bytes += entry.update.length
    this.#edits += countOf(entry)
  }
}

/** How many edits an entry stands for. */
const countOf = ({ spans }: Entry): number => {
  if (spans === undefined) return 1
  let count = 0
  for (let index = 0; index < spans.length; index += 2)
    count += (spans[index + 1] as number) - (spans[index] as number) + 1
  return count
}

const inSpans = (spans: readonly number[], ref: number): boolean => {
  for (let index = 0; index < spans.length; index += 2)
    if (ref >= (spans[index] as number) && ref <= (spans[index + 1] as number)) return true
  return false
}

/** Appends ranges after `into`'s last, joining adjacent ones. */
const appendSpans = (into: number[], spans: readonly number[]): void => {
  for (let index = 0; index < spans.length; index += 2) {
    const first = spans[index] as number
    const last = spans[index + 1] as number
    if (into.length > 0 && into[into.length - 1] === first - 1) into[into.length - 1] = last
    else into.push(first, last)
  }
}

/** Drops the refs up to `ref` from `spans` (never the last, which is above it); returns them. */
const trimSpans = (spans: number[], ref: number): number[] => {
  const trimmed: number[] = []
  while (spans.length > 0 && (spans[0] as number) <= ref) {
    const first = spans[0] as number
    const last = Math.min(spans[1] as number, ref)
    for (let each = first; each <= last; each++) trimmed.push(each)
    if (last === spans[1]) spans.splice(0, 2)
    else spans[0] = last + 1
  }
  return trimmed
}
