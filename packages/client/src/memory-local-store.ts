/** MemoryLocalStore: a LocalStore in memory, for tests and for apps that need no persistence. */
import { WeftError } from '@weft/protocol'
import type { LocalChange, LocalDoc, LocalStore, OutboxRecord } from './local-store.js'

interface Entry {
  snapshot: Uint8Array | null
  updates: Uint8Array[]
  outbox: Map<number, Uint8Array>
  lastRef: number
}

/** A {@link LocalStore} in memory: edits survive disconnects and client re-creation, not the process. */
export class MemoryLocalStore implements LocalStore {
  readonly #docs = new Map<string, Entry>()
  #closed = false

  async load(doc: string): Promise<LocalDoc> {
    this.#assertOpen()
    const entry = this.#docs.get(doc)
    if (entry === undefined) return { snapshot: null, updates: [], outbox: [], lastRef: 0 }
    // Copies out as well as in: a caller changing what it loaded must not change the store.
    const outbox: OutboxRecord[] = [...entry.outbox]
      .sort(([a], [b]) => a - b)
      .map(([ref, update]) => ({ ref, update: update.slice() }))
    const updates = entry.updates.map((update) => update.slice())
    return { snapshot: entry.snapshot?.slice() ?? null, updates, outbox, lastRef: entry.lastRef }
  }

  async write(doc: string, change: LocalChange): Promise<void> {
    this.#assertOpen()
    const entry = this.#entry(doc)
    for (const update of change.updates ?? []) entry.updates.push(update.slice())
    for (const record of change.outboxAdd ?? []) {
      entry.outbox.set(record.ref, record.update.slice())
      entry.lastRef = Math.max(entry.lastRef, record.ref)
    }
    for (const ref of change.outboxRemove ?? []) entry.outbox.delete(ref)
  }

  async compact(doc: string, snapshot: Uint8Array): Promise<void> {
    this.#assertOpen()
    const entry = this.#entry(doc)
    entry.snapshot = snapshot.slice()
    entry.updates = []
  }

  async clear(doc: string): Promise<void> {
    this.#assertOpen()
    this.#docs.delete(doc)
  }

  async close(): Promise<void> {
    this.#closed = true
  }

  #entry(doc: string): Entry {
    let entry = this.#docs.get(doc)
    if (entry === undefined) {
      entry = { snapshot: null, updates: [], outbox: new Map(), lastRef: 0 }
      this.#docs.set(doc, entry)
    }
    return entry
  }

  #assertOpen(): void {
    if (this.#closed) throw new WeftError('CLOSED', 'the memory local store is closed')
  }
}
