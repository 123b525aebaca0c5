/** LogHeads: the optional store capability of reading where a document's log stands, cheaply. */
import type { DocStore } from './doc-store.js'

/** A document's log records after a sequence number (see {@link LogHeads.readLogAfter}). */
export interface LogTail {
  /** The updates of the records after the given sequence number, oldest first. */
  readonly updates: readonly Uint8Array[]
  /** The head a `load` now would report. */
  readonly headSeq: number
  /** The incarnation a `load` now would report. */
  readonly incarnation?: string
}

/**
 * What a store several relays share offers so that a relay can check, without reading any
 * record, whether another relay wrote to a document since (a quiet document whose last bus
 * message was lost). A relay on a store without it reads the whole document instead.
 */
export interface LogHeads {
  /**
   * The sequence number of the document's last durable log record: the `headSeq` a `load` now
   * would report (0 for a document the store does not hold).
   */
  headSeq(name: string): Promise<number>
  /**
   * The updates of the document's log records after `afterSeq`, with its head and incarnation,
   * read together as of now: what a relay that holds every record through `afterSeq` lacks,
   * without the snapshot and the records it has. `null` when a compaction folded some of them
   * (the relay then reads the whole document). A document the store does not hold reads as no
   * updates at head 0. Optional: without it a relay catching up reads the whole document.
   */
  readLogAfter?(name: string, afterSeq: number): Promise<LogTail | null>
}

/** Whether `store` offers {@link LogHeads}. */
export const hasLogHeads = (store: DocStore): store is DocStore & LogHeads =>
  typeof (store as Partial<LogHeads>).headSeq === 'function'
