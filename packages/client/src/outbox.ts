/** Outbox: local edits not yet known to be durable on the relay, by ref. */
import { stateVectorCovers, summarizeUpdate, type UpdateSummary } from '@weft/doc'
import type { OutboxRecord } from './local-store.js'

interface Entry {
  readonly update: Uint8Array
  /** When it was added (ms since the epoch; for a restored edit, when it was restored). */
  readonly atMs: number
  summary?: UpdateSummary | null
}

/**
 * Holds local edits until the relay reports them durable. Refs increase with every edit and are
 * never reused (the last one is kept in the local store). `saved(ref)` covers every edit up to
 * `ref`: the relay acknowledges in order, and a resync after reconnecting resends everything
 * under the newest ref. A durable state vector also settles edits that only add structs it
 * covers (an acknowledgement lost with a connection); edits that delete need their ref.
 */
export class Outbox {
  readonly #entries = new Map<number, Entry>()
  #bytes = 0
  #lastRef: number

  constructor(lastRef = 0) {
    this.#lastRef = lastRef
  }

  /** Number of edits waiting. */
  get size(): number {
    return this.#entries.size
  }

  /** Total bytes of the edits waiting. */
  get bytes(): number {
    return this.#bytes
  }

  /** The newest ref handed out. */
  get lastRef(): number {
    return this.#lastRef
  }

  /** The oldest ref waiting, or `undefined` when none is. */
  get oldestRef(): number | undefined {
    for (const ref of this.#entries.keys()) return ref
    return undefined
  }

  /** When the oldest edit waiting was added (ms since the epoch), or `null` when none is. */
  get oldestAtMs(): number | null {
    for (const entry of this.#entries.values()) return entry.atMs
    return null
  }

  /** The refs waiting, ascending. */
  refs(): number[] {
    return [...this.#entries.keys()]
  }

  /** Adds an edit under a fresh ref, made at `atMs` (ms since the epoch). */
  push(update: Uint8Array, atMs: number): OutboxRecord {
    const ref = ++this.#lastRef
    this.#entries.set(ref, { update, atMs })
    this.#bytes += update.length
    return { ref, update }
  }

  /** Restores an edit read from the local store at `atMs` (the store keeps no times). */
  restore(record: OutboxRecord, atMs: number): void {
    this.#entries.set(record.ref, { update: record.update, atMs })
    this.#bytes += record.update.length
    this.#lastRef = Math.max(this.#lastRef, record.ref)
  }

  /** The edit with `ref`, if waiting. */
  get(ref: number): Uint8Array | undefined {
    return this.#entries.get(ref)?.update
  }

  /** Removes one edit; returns whether it was waiting. */
  remove(ref: number): boolean {
    const entry = this.#entries.get(ref)
    if (entry === undefined) return false
    this.#entries.delete(ref)
    this.#bytes -= entry.update.length
    return true
  }

  /** Removes every edit with a ref up to `ref`; returns their refs. */
  acknowledge(ref: number): number[] {
    const removed: number[] = []
    for (const key of this.#entries.keys()) {
      if (key > ref) break
      removed.push(key)
    }
    for (const key of removed) this.remove(key)
    return removed
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
}
