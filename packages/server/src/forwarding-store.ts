/** ForwardingStore: a DocStore that passes every call to another, for wrappers to extend. */
import type {
  AppendEntry,
  AppendOptions,
  DocHistory,
  DocStore,
  DocSummary,
  FeedChange,
  FeedPage,
  StateRecord,
  StoredDoc,
} from './doc-store.js'

/**
 * Forwards every call to `inner`. Extend it and override the calls to observe or change (count
 * loads, inject failures, mirror writes); the others keep working as the inner store's.
 */
export class ForwardingStore implements DocStore {
  protected readonly inner: DocStore

  constructor(inner: DocStore) {
    this.inner = inner
  }

  get keepsIncarnations(): boolean {
    return this.inner.keepsIncarnations === true
  }

  get feedRetentionMs(): number {
    return this.inner.feedRetentionMs
  }

  load(name: string): Promise<StoredDoc> {
    return this.inner.load(name)
  }

  append(
    name: string,
    entries: readonly AppendEntry[],
    changes?: readonly FeedChange[],
    options?: AppendOptions,
  ): Promise<number> {
    return this.inner.append(name, entries, changes, options)
  }

  compact(name: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    return this.inner.compact(name, snapshot, throughSeq)
  }

  list(): Promise<DocSummary[]> {
    return this.inner.list()
  }

  history(name: string): Promise<DocHistory> {
    return this.inner.history(name)
  }

  delete(name: string, change?: FeedChange): Promise<void> {
    return this.inner.delete(name, change)
  }

  readFeed(after: number, limit: number): Promise<FeedPage> {
    return this.inner.readFeed(after, limit)
  }

  pruneFeed(nowMs?: number): Promise<number> {
    return this.inner.pruneFeed(nowMs)
  }

  readState(prefix: string): Promise<StateRecord[]> {
    return this.inner.readState(prefix)
  }

  writeState(records: ReadonlyArray<{ key: string; value: unknown }>): Promise<void> {
    return this.inner.writeState(records)
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}
