/** MemoryStore: a DocStore in process memory, for tests and throwaway relays. */
import { WeftError } from '@weft/protocol'
import type { AppendEntry, DocStore, DocSummary, StoredDoc } from './doc-store.js'

interface MemoryDoc {
  snapshot: Uint8Array | null
  log: Array<{ seq: number; updates: Uint8Array[]; receivedAtMs: number }>
  headSeq: number
  compactedAtMs: number | null
}

/** A {@link DocStore} that keeps everything in memory; nothing survives the process. */
export class MemoryStore implements DocStore {
  readonly #docs = new Map<string, MemoryDoc>()
  #closed = false

  async load(name: string): Promise<StoredDoc> {
    this.#assertOpen()
    const doc = this.#docs.get(name)
    if (doc === undefined) return { snapshot: null, updates: [], headSeq: 0, logBytes: 0 }
    const updates = doc.log.flatMap((record) => record.updates)
    const logBytes = updates.reduce((sum, update) => sum + update.length, 0)
    return { snapshot: doc.snapshot, updates, headSeq: doc.headSeq, logBytes }
  }

  async append(name: string, entries: readonly AppendEntry[]): Promise<number> {
    this.#assertOpen()
    const doc = this.#doc(name)
    doc.headSeq += 1
    doc.log.push({
      seq: doc.headSeq,
      updates: entries.map((entry) => entry.update.slice()),
      receivedAtMs: Math.max(0, ...entries.map((entry) => entry.meta.receivedAtMs)),
    })
    return doc.headSeq
  }

  async compact(name: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    this.#assertOpen()
    const doc = this.#doc(name)
    doc.snapshot = snapshot.slice()
    doc.log = doc.log.filter((record) => record.seq > throughSeq)
    doc.compactedAtMs = Date.now()
  }

  async list(): Promise<DocSummary[]> {
    this.#assertOpen()
    return [...this.#docs].map(([name, doc]) => ({
      name,
      snapshotBytes: doc.snapshot?.length ?? 0,
      logBytes: doc.log.reduce(
        (sum, record) => sum + record.updates.reduce((bytes, update) => bytes + update.length, 0),
        0,
      ),
      logRecords: doc.log.length,
      lastWriteAtMs: doc.log.at(-1)?.receivedAtMs ?? doc.compactedAtMs,
    }))
  }

  async delete(name: string): Promise<void> {
    this.#assertOpen()
    this.#docs.delete(name)
  }

  async close(): Promise<void> {
    this.#closed = true
  }

  #doc(name: string): MemoryDoc {
    let doc = this.#docs.get(name)
    if (doc === undefined) {
      doc = { snapshot: null, log: [], headSeq: 0, compactedAtMs: null }
      this.#docs.set(name, doc)
    }
    return doc
  }

  #assertOpen(): void {
    if (this.#closed) throw new WeftError('CLOSED', 'the memory store is closed')
  }
}
