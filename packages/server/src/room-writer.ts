/** RoomWriter: a room's path to disk — one append per turn, acknowledgements, compaction. */
import type { ChangeEvent } from '@weft/doc'
import { WeftError } from '@weft/protocol'
import * as Y from 'yjs'
import type { AppendEntry, AppendOptions, DocStore, FeedChange } from './doc-store.js'
import type { Logger } from './logger.js'
import type { RelayMetrics } from './metrics.js'
import { endFailed, startChildSpan, traceparentOf, type Traced } from './tracing.js'

/** Who wrote, what to store, and the ref to acknowledge. */
export interface PendingWrite<Peer> {
  /** What to append; empty when the updates changed nothing and only need an ack. */
  readonly updates: readonly Uint8Array[]
  readonly peer: Peer
  readonly ref: number
  readonly receivedAtMs: number
  /** The domain events the updates produced (documents with a schema). */
  readonly events?: readonly ChangeEvent[]
  /** The `weft.update` span of these updates, ended when they are acknowledged. */
  readonly traced?: Traced
}

/** What a writer needs from its room. */
export interface RoomWriterOptions<Peer> {
  readonly name: string
  readonly doc: Y.Doc
  readonly store: DocStore
  readonly logger: Logger
  readonly metrics: RelayMetrics
  readonly compactAfterUpdates: number
  readonly compactAfterBytes: number
  /** Where the stored log stands (from the load). */
  readonly headSeq: number
  readonly logEntries: number
  readonly logBytes: number
  /** Identity and acknowledgement of a writer, if it is still in the room. */
  readonly author: (peer: Peer) => { author: string; correlationId: string }
  readonly acknowledge: (peer: Peer, ref: number, stateVector: Uint8Array) => void
  /** A write failed: the room must fail (no acknowledgement may follow). */
  readonly failed: (error: WeftError) => void
  /** Changes became durable (and entered the change feed). */
  readonly onChanges?: () => void
  /** A record became durable with sequence `seq` (relays sharing a store publish it). */
  readonly appended?: (seq: number, updates: readonly Uint8Array[]) => void
  /**
   * The last record compaction may fold: on a shared store, the document may lack records of
   * other relays. Default: this writer's last durable record.
   */
  readonly compactThroughSeq?: () => number
  /**
   * The document's incarnation as the room knows it (see `AppendOptions`), required of each
   * append on a shared store so a document another relay deleted is not recreated from this
   * one; `learned` gets the incarnation each append was written under.
   */
  readonly incarnation?: {
    readonly current: () => string | undefined
    readonly learned: (incarnation: string) => void
  }
}

/**
 * How far a writer's document runs ahead of its store: updates applied in memory but not yet
 * durable, and log entries appended since the last compaction folded the log into the snapshot.
 */
export interface WriterDrift {
  /** Updates applied to the document and queued or being appended, not yet durable. */
  readonly unpersistedUpdates: number
  /** Their bytes. */
  readonly unpersistedBytes: number
  /** When the oldest of them was received (ms since the epoch); null with none. */
  readonly oldestUnpersistedAtMs: number | null
  /**
   * Log entries the store holds for the document beyond its snapshot, as this writer counts
   * them (loaded, plus appended since): what the next compaction folds.
   */
  readonly uncompactedEntries: number
  /** Their bytes. */
  readonly uncompactedBytes: number
}

/**
 * Each event-loop turn's writes become one append; the store commits appends from all rooms
 * together. When an append is durable, each writer in it gets one acknowledgement with the state
 * vector taken when the batch was sealed (everything applied before is in it or an earlier
 * batch) and its highest ref. After a failure nothing is acknowledged again.
 */
export class RoomWriter<Peer> {
  readonly #options: RoomWriterOptions<Peer>
  #queue: Array<PendingWrite<Peer>> = []
  #scheduled = false
  /** An append is on its way to disk: later writes wait and go together in the next one. */
  #writing = false
  #tail: Promise<void> = Promise.resolve()
  /** The batch of the append on its way to disk (acknowledged once it is durable). */
  #inFlight: ReadonlyArray<PendingWrite<Peer>> = []
  /** Updates (and bytes) queued or in flight: counted on enqueue, uncounted once durable. */
  #unpersistedUpdates = 0
  #unpersistedBytes = 0
  #durableStateVector: Uint8Array | null = null
  #durableSeq: number
  #logEntries: number
  #logBytes: number
  #compaction: Promise<void> | null = null
  #snapshotBytes = 0
  #stopped = false

  constructor(options: RoomWriterOptions<Peer>) {
    this.#options = options
    this.#durableSeq = options.headSeq
    this.#logEntries = options.logEntries
    this.#logBytes = options.logBytes
  }

  /**
   * The state vector of everything known to be on disk: what the document held when first asked
   * (loaded from the store), then what each durable batch covered.
   */
  get durableStateVector(): Uint8Array {
    this.#durableStateVector ??= Y.encodeStateVector(this.#options.doc)
    return this.#durableStateVector
  }

  /** What is not durable yet and what the log holds since the last compaction; reads no store. */
  get drift(): WriterDrift {
    return {
      unpersistedUpdates: this.#unpersistedUpdates,
      unpersistedBytes: this.#unpersistedBytes,
      oldestUnpersistedAtMs: oldestWrite(this.#inFlight) ?? oldestWrite(this.#queue),
      uncompactedEntries: this.#logEntries,
      uncompactedBytes: this.#logBytes,
    }
  }

  /** Queues a write for this turn's append. */
  enqueue(write: PendingWrite<Peer>): void {
    if (this.#stopped) return
    this.#queue.push(write)
    this.#count(write, 1)
    this.#schedule()
  }

  /** Resolves once everything queued so far is durable (or has failed). */
  async whenDurable(): Promise<void> {
    while (this.#writing || this.#queue.length > 0) {
      if (!this.#writing) this.#flush()
      await this.#tail
    }
    await this.#tail
  }

  /** Waits for writes and compaction, then compacts what the log still holds. */
  async finish(): Promise<void> {
    await this.whenDurable()
    await this.#compaction
    if (!this.#stopped && this.#logEntries > 0) await this.#compact()
  }

  /** Waits for everything queued so far, then compacts the log (if any); returns entries folded. */
  async compactNow(): Promise<number> {
    await this.whenDurable()
    await this.#compaction
    const entries = this.#logEntries
    if (this.#stopped || entries === 0) return 0
    const running = this.#compact().finally(() => {
      if (this.#compaction === running) this.#compaction = null
    })
    this.#compaction = running
    await running
    return entries - this.#logEntries
  }

  /** Resolves once the write and the compaction in progress, if any, have finished. */
  async settled(): Promise<void> {
    await this.#tail.catch(() => {})
    await this.#compaction
  }

  /** Drops queued writes and never acknowledges again (the room failed). */
  stop(): void {
    this.#stopped = true
    for (const write of this.#queue) {
      if (write.traced !== undefined)
        endFailed(write.traced.span, { message: 'not written: the room ended' })
    }
    this.#queue = []
    this.#inFlight = []
    this.#unpersistedUpdates = 0
    this.#unpersistedBytes = 0
  }

  /** Adds (`sign` 1) or removes (-1) a write's updates from the unpersisted counts. */
  #count(write: PendingWrite<Peer>, sign: 1 | -1): void {
    this.#unpersistedUpdates += sign * write.updates.length
    for (const update of write.updates) this.#unpersistedBytes += sign * update.length
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing) return
    this.#scheduled = true
    setImmediate(() => this.#flush())
  }

  #flush(): void {
    this.#scheduled = false
    const batch = this.#queue
    if (batch.length === 0 || this.#stopped || this.#writing) return
    this.#queue = []
    const { author, store, name, doc } = this.#options
    const stateVector = Y.encodeStateVector(doc)
    const entries: AppendEntry[] = []
    const changes: FeedChange[] = []
    const feed = store.feedRetentionMs > 0
    // One feed change per sender per batch: a stock y-websocket client sends every keystroke as
    // its own message, and one feed entry each would cost more than the edits themselves.
    const groups: Array<{
      peer: Peer
      identity: ReturnType<typeof author>
      receivedAtMs: number
      bytes: number
      events: ChangeEvent[]
      traceparent?: string
    }> = []
    for (const write of batch) {
      if (write.updates.length === 0) continue
      const identity = author(write.peer)
      let bytes = 0
      for (const update of write.updates) {
        entries.push({ update, meta: { ...identity, receivedAtMs: write.receivedAtMs } })
        bytes += update.length
      }
      if (!feed) continue
      let group = groups.at(-1)
      if (group?.peer !== write.peer) {
        const { receivedAtMs } = write
        group = { peer: write.peer, identity, receivedAtMs, bytes: 0, events: [] }
        groups.push(group)
      }
      group.bytes += bytes
      for (const event of write.events ?? []) group.events.push(event)
      // The feed event continues the trace of the (first traced) write it records.
      if (write.traced !== undefined) group.traceparent ??= traceparentOf(write.traced.span)
    }
    for (const { identity, receivedAtMs, bytes, events, traceparent } of groups) {
      const traced = traceparent === undefined ? {} : { traceparent }
      changes.push({ kind: 'update', ...identity, receivedAtMs, bytes, events, ...traced })
    }
    if (entries.length > 0)
      this.#options.logger.debug('appending', { doc: name, entries: entries.length })
    const startedMs = performance.now()
    const persisting = batch.map((write) =>
      write.traced === undefined
        ? null
        : startChildSpan(write.traced.context, 'weft.persist', { 'weft.entries': entries.length }),
    )
    const written =
      entries.length > 0 ? store.append(name, entries, changes, this.#appendOptions()) : null
    this.#writing = written !== null
    this.#inFlight = batch
    this.#tail = Promise.all([this.#tail, written]).then(
      ([, seq]) => {
        this.#writing = false
        if (!this.#stopped) {
          for (const write of batch) this.#count(write, -1)
          if (this.#inFlight === batch) this.#inFlight = []
        }
        for (const span of persisting) span?.end()
        if (seq !== null) {
          let bytes = 0
          for (const entry of entries) bytes += entry.update.length
          this.#options.metrics.persisted(
            entries.length,
            bytes,
            (performance.now() - startedMs) / 1000,
          )
        }
        this.#durable(batch, entries, seq, stateVector)
        if (changes.length > 0) this.#options.onChanges?.()
        if (this.#queue.length > 0) this.#schedule()
      },
      (cause: unknown) => {
        this.#writing = false
        batch.forEach((write, index) => {
          const span = persisting[index]
          if (span != null) endFailed(span, { code: 'STORAGE_FAILED', message: String(cause) })
          if (write.traced !== undefined)
            endFailed(write.traced.span, { code: 'STORAGE_FAILED', message: 'not written' })
        })
        this.stop()
        // Deleted by another relay since the room loaded: nothing was written, nothing failed.
        if (cause instanceof WeftError && cause.code === 'DOC_DELETED')
          return this.#options.failed(cause)
        this.#options.metrics.storageFailed()
        this.#options.failed(new WeftError('STORAGE_FAILED', `writing "${name}" failed`, { cause }))
      },
    )
  }

  #appendOptions(): AppendOptions {
    const hooks = this.#options.incarnation
    if (hooks === undefined) return {}
    const incarnation = hooks.current()
    return incarnation === undefined
      ? { written: hooks.learned }
      : { incarnation, written: hooks.learned }
  }

  #durable(
    batch: ReadonlyArray<PendingWrite<Peer>>,
    entries: readonly AppendEntry[],
    seq: number | null,
    stateVector: Uint8Array,
  ): void {
    if (this.#stopped) {
      for (const write of batch) {
        if (write.traced !== undefined) endFailed(write.traced.span, { message: 'the room ended' })
      }
      return
    }
    if (seq !== null) {
      this.#options.logger.debug('appended', { doc: this.#options.name, seq })
      this.#durableSeq = seq
      this.#logEntries += entries.length
      for (const entry of entries) this.#logBytes += entry.update.length
      this.#options.appended?.(
        seq,
        entries.map((entry) => entry.update),
      )
    }
    this.#durableStateVector = stateVector
    const refs = new Map<Peer, number>()
    for (const write of batch) refs.set(write.peer, Math.max(refs.get(write.peer) ?? 0, write.ref))
    for (const [peer, ref] of refs) this.#options.acknowledge(peer, ref, stateVector)
    const nowMs = Date.now()
    for (const write of batch) {
      this.#options.metrics.acknowledged((nowMs - write.receivedAtMs) / 1000)
      if (write.traced === undefined) continue
      startChildSpan(write.traced.context, 'weft.ack', { 'weft.ref': write.ref }).end()
      write.traced.span.end()
    }
    const { compactAfterUpdates, compactAfterBytes } = this.#options
    if (
      this.#compaction === null &&
      (this.#logEntries >= compactAfterUpdates || this.#logBytes >= compactAfterBytes) &&
      // Amortized: rewriting the snapshot costs its size, so wait until the log is as large.
      this.#logBytes >= this.#snapshotBytes
    ) {
      this.#compaction = this.#compact().finally(() => {
        this.#compaction = null
      })
    }
  }

  /** Folds the log into a snapshot of the in-memory document (a superset of the durable log). */
  async #compact(): Promise<void> {
    const { store, name, doc, logger } = this.#options
    const throughSeq = this.#options.compactThroughSeq?.() ?? this.#durableSeq
    const entries = this.#logEntries
    const bytes = this.#logBytes
    const started = performance.now()
    logger.debug('compacting', { doc: name, entries, bytes })
    try {
      const snapshot = Y.encodeStateAsUpdate(doc)
      this.#snapshotBytes = snapshot.length
      await store.compact(name, snapshot, throughSeq)
      // A stale compaction resolves too (see DocStore.compact): when another relay's went
      // further, what this one counted is folded already; otherwise the log stays and is counted
      // again at the next load. Either way nothing acknowledged is lost.
      this.#logEntries -= entries
      this.#logBytes -= bytes
      this.#options.metrics.compacted((performance.now() - started) / 1000, true)
      logger.debug('compacted', {
        doc: name,
        entries,
        bytes,
        ms: Math.round(performance.now() - started),
      })
    } catch (cause) {
      // Nothing acknowledged depends on compaction: the log is intact and appends still report
      // their own failures. Surface it and try again at the next threshold.
      this.#options.metrics.compacted((performance.now() - started) / 1000, false)
      logger.error('compaction failed', { doc: name, error: String(cause) })
    }
  }
}

/** When the first write with updates in `writes` was received (they are in arrival order). */
const oldestWrite = <Peer>(writes: ReadonlyArray<PendingWrite<Peer>>): number | null => {
  for (const write of writes) if (write.updates.length > 0) return write.receivedAtMs
  return null
}
