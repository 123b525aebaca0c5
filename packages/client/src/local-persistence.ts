/** LocalPersistence: one document's writes to its LocalStore, batched per tick and serialized. */
import type { LocalDoc, LocalStore, OutboxRecord } from './local-store.js'

/** How often a document's stored updates are folded into a snapshot. */
export interface CompactionPolicy {
  /** Compact once this many updates were written since the last snapshot. Default 500. */
  readonly compactAfterUpdates: number
}

type Snapshotter = () => Uint8Array

/**
 * Writes of one document go through here. Changes made in the same tick become one atomic
 * `write`; writes run one after another, so the store never sees two calls for a document at
 * once. Compaction runs in the same sequence, with a snapshot taken when it runs, so it always
 * includes every update written before it.
 */
export class LocalPersistence {
  readonly #store: LocalStore
  readonly #doc: string
  readonly #policy: CompactionPolicy
  readonly #snapshot: Snapshotter
  #chain: Promise<void> = Promise.resolve()
  #updates: Uint8Array[] = []
  #outboxAdd: OutboxRecord[] = []
  #outboxRemove: number[] = []
  #batch: Promise<void> | null = null
  #sinceCompaction = 0
  #bytesSinceCompaction = 0
  #snapshotBytes = 0
  #disabled = false
  #onError: (error: unknown) => void

  constructor(
    store: LocalStore,
    doc: string,
    policy: CompactionPolicy,
    snapshot: Snapshotter,
    onError: (error: unknown) => void,
  ) {
    this.#store = store
    this.#doc = doc
    this.#policy = policy
    this.#snapshot = snapshot
    this.#onError = onError
  }

  /** Reads what is stored; remembers how many updates wait for compaction. */
  async load(): Promise<LocalDoc> {
    const loaded = await this.#run(() => this.#store.load(this.#doc))
    this.#sinceCompaction = loaded.updates.length
    this.#bytesSinceCompaction = loaded.updates.reduce((sum, update) => sum + update.length, 0)
    this.#snapshotBytes = loaded.snapshot?.length ?? 0
    return loaded
  }

  /**
   * Stores local edits (as state and in the outbox); resolves once the write settled (a failure
   * is reported through `onError`).
   */
  recordLocal(records: readonly OutboxRecord[]): Promise<void> {
    for (const record of records) {
      this.#updates.push(record.update)
      this.#outboxAdd.push(record)
    }
    return this.#scheduleBatch()
  }

  /** Stores an update from the relay. */
  recordRemote(update: Uint8Array): void {
    this.#updates.push(update)
    void this.#scheduleBatch()
  }

  /** Removes acknowledged edits from the stored outbox. */
  acknowledge(refs: readonly number[]): void {
    if (refs.length === 0) return
    // One acknowledgement may cover a whole replay's edits: too many for a spread call.
    for (const ref of refs) this.#outboxRemove.push(ref)
    void this.#scheduleBatch()
  }

  /**
   * Replaces the stored outbox records `refs` with `record` (their merge, under a ref of its own
   * or one of theirs) in one write. Records not written yet are simply not written.
   */
  replaceOutbox(refs: readonly number[], record: OutboxRecord): void {
    const gone = new Set(refs)
    gone.add(record.ref)
    const queued = new Set<number>()
    this.#outboxAdd = this.#outboxAdd.filter((each) => {
      if (!gone.has(each.ref)) return true
      queued.add(each.ref)
      return false
    })
    for (const ref of refs) if (!queued.has(ref)) this.#outboxRemove.push(ref)
    this.#outboxAdd.push(record)
    void this.#scheduleBatch()
  }

  /** Stops every later write: what is stored must not be touched (it could not be read). */
  disable(): void {
    this.#disabled = true
  }

  /** Folds the stored updates into a snapshot, after every write queued so far; rejects if it fails. */
  compact(): Promise<void> {
    this.#sinceCompaction = 0
    this.#bytesSinceCompaction = 0
    return this.#run(() => {
      const snapshot = this.#snapshot()
      this.#snapshotBytes = snapshot.length
      return this.#store.compact(this.#doc, snapshot)
    })
  }

  /**
   * True when enough updates accumulated since the last snapshot: `compactAfterUpdates` of them,
   * and at least as many bytes as the snapshot holds, so that re-encoding the document costs a
   * bounded amount per byte written however large it grows.
   */
  get wantsCompaction(): boolean {
    return (
      this.#sinceCompaction >= this.#policy.compactAfterUpdates &&
      this.#bytesSinceCompaction >= this.#snapshotBytes
    )
  }

  /** Resolves once everything queued so far is written (or failed and was reported). */
  async flush(): Promise<void> {
    if (this.#batch !== null) await this.#batch
    await this.#chain
  }

  #scheduleBatch(): Promise<void> {
    // One write per tick: the first change of the tick queues it; later ones join it.
    this.#batch ??= new Promise<void>((resolve) => queueMicrotask(resolve)).then(() => {
      this.#batch = null
      const change = {
        updates: this.#updates,
        outboxAdd: this.#outboxAdd,
        outboxRemove: this.#outboxRemove,
      }
      this.#updates = []
      this.#outboxAdd = []
      this.#outboxRemove = []
      this.#sinceCompaction += change.updates.length
      for (const update of change.updates) this.#bytesSinceCompaction += update.length
      const written = this.#run(() => this.#store.write(this.#doc, change))
      if (this.wantsCompaction) this.compact().catch(() => {})
      // Failures were reported through onError; the batch itself always settles.
      return written.then(
        () => undefined,
        () => undefined,
      )
    })
    return this.#batch
  }

  /** Runs `work` after everything queued before it; failures are reported, not thrown at the queue. */
  #run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#chain.then(() => {
      // Nothing may be written over a local copy that could not be read.
      if (this.#disabled) return undefined as T
      return work()
    })
    this.#chain = result.then(
      () => undefined,
      (error: unknown) => this.#onError(error),
    )
    return result
  }
}
