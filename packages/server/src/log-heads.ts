/** LogHeads: the optional store capability of reading where a document's log stands, cheaply. */
import type { DocStore } from './doc-store.js'

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
}

/** Whether `store` offers {@link LogHeads}. */
export const hasLogHeads = (store: DocStore): store is DocStore & LogHeads =>
  typeof (store as Partial<LogHeads>).headSeq === 'function'
