/** RelayTransfers: the relay's chunked transfers that outlive a socket, both ways, within budgets. */
import { TransferReceiver, type ChunkedFrame } from '@weft/protocol'

/** A document's sync answer sent in chunks, kept so that a client that lost its socket resumes it. */
export interface SyncTransfer {
  readonly chunks: ChunkedFrame
  readonly doc: string
  /** The relay's state vector when the answer was encoded: what to send after it on resuming. */
  readonly stateVector: Uint8Array
}

/** Bytes of sync answers kept for resuming, over the relay (the least recently used go first). */
const MAX_KEPT_SYNC_BYTES = 256 * 1024 * 1024

/** A sync answer not asked for this long is dropped. */
const KEEP_SYNC_MS = 10 * 60_000

/**
 * Sync answers sent in chunks, by transfer id, so a client that reconnects resumes one from the
 * last chunk it received; and the transfers clients send, joined per client (`subject`) in one
 * receiver whose budget is four times the document-size limit, so an upload cut by a reconnect
 * resumes on the next socket — on this relay (a relay that lost it asks for it again from zero).
 */
export class RelayTransfers {
  readonly incoming: TransferReceiver
  readonly #syncs = new Map<string, { transfer: SyncTransfer; atMs: number }>()
  #syncBytes = 0

  constructor(maxDocBytes: number) {
    this.incoming = new TransferReceiver({ maxBytes: maxDocBytes, maxHeldBytes: maxDocBytes * 4 })
  }

  /** Keeps a sync answer for resuming (again: it becomes the most recently used). */
  keep(transfer: SyncTransfer, nowMs = Date.now()): void {
    const id = transfer.chunks.transfer
    const existing = this.#syncs.get(id)
    if (existing !== undefined) {
      this.#syncs.delete(id)
      this.#syncBytes -= existing.transfer.chunks.size
    }
    this.#syncs.set(id, { transfer, atMs: nowMs })
    this.#syncBytes += transfer.chunks.size
    for (const [oldId, entry] of this.#syncs) {
      if (this.#syncBytes <= MAX_KEPT_SYNC_BYTES && nowMs - entry.atMs < KEEP_SYNC_MS) break
      this.#syncs.delete(oldId)
      this.#syncBytes -= entry.transfer.chunks.size
    }
  }

  /** The sync answer with this transfer id, if still kept. */
  sync(id: string): SyncTransfer | undefined {
    return this.#syncs.get(id)?.transfer
  }
}
