/** EditSender: puts stored local edits on the wire in as few frames as the relay allows. */
import {
  MAX_LIST_ITEMS,
  traceFrame,
  type TraceContext,
  type UpdateMessage,
  type UpdatesMessage,
  type WeftMessage,
} from '@weft/protocol'
import type { OutboxRecord } from './local-store.js'

/**
 * Largest batch of edits sent in one frame (below the relay's limit, which may be larger, and
 * below a chunk, so that a batch never waits on a transfer's pacing).
 */
const BATCH_BYTES = 240 * 1024
/** Room for a frame's tag, ref and length prefixes around the updates and the name. */
const FRAME_OVERHEAD_BYTES = 32

/** What the sender needs from its document handle. */
export interface EditSenderHost {
  readonly name: string
  send(message: WeftMessage): boolean
  /** The relay's frame limit, from `welcome`. */
  readonly maxMessageBytes: number
  /** Whether the edit still waits (it may have been settled or refused meanwhile). */
  waiting(ref: number): boolean
  /** An edit that can never be sent: over the relay's frame limit. */
  tooBig(ref: number, reason: string): void
  /** The trace contexts to send with edits `refs`, or `null` to send them untraced. */
  tracesOf(refs: readonly number[]): Array<TraceContext | null> | null
}

/**
 * Sends one document's edits: one `update` for a lone edit, `updates` batches otherwise, each
 * within the frame limit and {@link MAX_LIST_ITEMS}. It remembers which refs each batch carried
 * until it is acknowledged, so that a refusal of the batch's ref refuses all of them.
 */
export class EditSender {
  readonly #host: EditSenderHost
  readonly #batches = new Map<number, number[]>()

  constructor(host: EditSenderHost) {
    this.#host = host
  }

  /** True when a whole update of `bytes` fits in one frame for this document. */
  fits(bytes: number): boolean {
    return bytes + this.#host.name.length * 3 + FRAME_OVERHEAD_BYTES <= this.#host.maxMessageBytes
  }

  /** Sends the edits that still wait, batched. */
  send(records: readonly OutboxRecord[]): void {
    const host = this.#host
    const room =
      Math.min(BATCH_BYTES, Math.floor(host.maxMessageBytes / 2)) -
      host.name.length * 3 -
      FRAME_OVERHEAD_BYTES
    let batch: OutboxRecord[] = []
    let bytes = 0
    for (const record of records) {
      if (!host.waiting(record.ref)) continue
      if (!this.fits(record.update.length)) {
        this.#sendBatch(batch)
        batch = []
        bytes = 0
        host.tooBig(
          record.ref,
          `the edit is over the relay's ${host.maxMessageBytes}-byte frame limit`,
        )
        continue
      }
      const size = record.update.length + 8
      if (bytes + size > room || batch.length === MAX_LIST_ITEMS) {
        this.#sendBatch(batch)
        batch = []
        bytes = 0
      }
      batch.push(record)
      bytes += size
    }
    this.#sendBatch(batch)
  }

  /** The refs a refused `ref` stood for (a whole batch, or itself), forgotten afterwards. */
  refsOf(ref: number): number[] {
    const refs = this.#batches.get(ref) ?? [ref]
    this.#batches.delete(ref)
    return refs
  }

  /** Everything up to `ref` is acknowledged: forget those batches. */
  acknowledged(ref: number): void {
    for (const last of this.#batches.keys()) if (last <= ref) this.#batches.delete(last)
  }

  /** The connection ended: nothing sent on it can be refused any more. */
  reset(): void {
    this.#batches.clear()
  }

  #sendBatch(batch: readonly OutboxRecord[]): void {
    const { name } = this.#host
    const refs = batch.map((record) => record.ref)
    if (batch.length === 1) {
      const [only] = batch as [OutboxRecord]
      this.#sendEdits({ type: 'update', doc: name, ref: only.ref, update: only.update }, refs)
    } else if (batch.length > 1) {
      const ref = (batch[batch.length - 1] as OutboxRecord).ref
      this.#batches.set(ref, refs)
      const updates = batch.map((record) => record.update)
      this.#sendEdits({ type: 'updates', doc: name, ref, updates }, refs)
    }
  }

  /** Sends `message`, in a `traced` frame when its edits have trace contexts to carry. */
  #sendEdits(message: UpdateMessage | UpdatesMessage, refs: readonly number[]): void {
    const traces = this.#host.tracesOf(refs)
    this.#host.send(traces === null ? message : traceFrame(message, traces))
  }
}
