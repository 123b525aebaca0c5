/** Test doubles for room tests: a store whose loads and writes the test controls, and a recording peer. */
import type { WeftError } from '@weft/protocol'
import type { AppendEntry, FeedChange, StoredDoc } from '../src/doc-store.js'
import { ForwardingStore } from '../src/forwarding-store.js'
import { MemoryStore } from '../src/memory-store.js'
import type { Outgoing } from '../src/outgoing.js'
import type { RoomPeer } from '../src/room.js'

/** A deferred promise. */
export const deferred = <T = void>(): {
  promise: Promise<T>
  resolve: (value: T) => void
  reject: (error: unknown) => void
} => {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** A MemoryStore whose loads and appends can be held back or made to fail. */
export class ControlledStore extends ForwardingStore {
  readonly memory: MemoryStore
  loads = 0
  appends: AppendEntry[][] = []
  compactions = 0
  /** While set, loads wait for it. */
  loadGate: Promise<void> | null = null
  /** While set, appends wait for it (a rejection fails them). */
  appendGate: Promise<void> | null = null
  failLoads = false

  constructor(memory = new MemoryStore()) {
    super(memory)
    this.memory = memory
  }

  override async load(name: string): Promise<StoredDoc> {
    this.loads += 1
    await this.loadGate
    if (this.failLoads) throw new Error('disk unreadable')
    return this.inner.load(name)
  }

  override async append(
    name: string,
    entries: readonly AppendEntry[],
    changes?: readonly FeedChange[],
  ): Promise<number> {
    this.appends.push([...entries])
    await this.appendGate
    return this.inner.append(name, entries, changes)
  }

  override async compact(name: string, snapshot: Uint8Array, throughSeq: number): Promise<void> {
    this.compactions += 1
    await this.inner.compact(name, snapshot, throughSeq)
  }
}

/** A peer that records what the room sends it. */
export class RecordingPeer implements RoomPeer {
  readonly dialect = 'weft'
  readonly author: string
  readonly correlationId = 'test'
  readonly owner: string | null
  delivered: Outgoing[] = []
  saves: Array<{ ref: number; stateVector: Uint8Array }> = []
  failures: WeftError[] = []

  constructor(author = 'peer', owner: string | null = null) {
    this.author = author
    this.owner = owner
  }

  deliver(message: Outgoing): void {
    this.delivered.push(message)
  }

  saved(ref: number, stateVector: Uint8Array): void {
    this.saves.push({ ref, stateVector })
  }

  roomFailed(error: WeftError): void {
    this.failures.push(error)
  }
}
