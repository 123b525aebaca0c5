/** Test doubles for DocHandle unit tests: a manual clock, a recording owner and a relay stand-in. */
import type { WeftMessage } from '@weft/protocol'
import * as Y from 'yjs'
import type { Clock } from '../src/clock.js'
import { DocHandle, type HandleOwner, type HandleSettings } from '../src/doc-handle.js'
import type { LocalStore } from '../src/local-store.js'
import { MemoryLocalStore } from '../src/memory-local-store.js'
import type { OutboxLimits } from '../src/outbox-watch.js'
import type { OutboxCompaction } from '../src/outbox-compaction.js'

/** A clock whose time moves only when the test calls {@link ManualClock.advance}. */
export class ManualClock implements Clock {
  readonly #epochMs: number
  readonly #timers = new Map<number, { atMs: number; fn: () => void }>()
  #nowMs = 0
  #nextId = 1

  constructor(epochMs = Date.UTC(2025, 0, 1)) {
    this.#epochMs = epochMs
  }

  now(): number {
    return this.#nowMs
  }

  wallNow(): number {
    return this.#epochMs + this.#nowMs
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#nextId++
    this.#timers.set(id, { atMs: this.#nowMs + Math.max(0, ms), fn })
    return id
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number)
  }

  /** Timers set and not yet run or cleared. */
  get timersWaiting(): number {
    return this.#timers.size
  }

  /** Moves time forward by `ms`, running the timers that fall due on the way, earliest first. */
  advance(ms: number): void {
    const targetMs = this.#nowMs + ms
    for (;;) {
      let next: [number, { atMs: number; fn: () => void }] | undefined
      for (const entry of this.#timers) {
        if (entry[1].atMs <= targetMs && (next === undefined || entry[1].atMs < next[1].atMs))
          next = entry
      }
      if (next === undefined) break
      this.#timers.delete(next[0])
      this.#nowMs = next[1].atMs
      next[1].fn()
    }
    this.#nowMs = targetMs
  }
}

type Sent<T extends WeftMessage['type']> = Extract<WeftMessage, { type: T }>

/** A {@link HandleOwner} that records what the handle sends; the test flips `ready`. */
export class FakeOwner implements HandleOwner {
  ready = false
  maxMessageBytes = 1024 * 1024
  sent: WeftMessage[] = []
  readonly retryAttempts: number[] = []
  readonly released: string[] = []

  send(message: WeftMessage): boolean {
    if (!this.ready) return false
    this.sent.push(message)
    return true
  }

  /** 1 s for the first attempt, 2 s for the second, and so on. */
  retryDelayMs(attempt: number): number {
    this.retryAttempts.push(attempt)
    return (attempt + 1) * 1000
  }

  release(handle: { readonly name: string }): void {
    this.released.push(handle.name)
  }

  handleStatusChanged(): void {}

  /** Everything sent since the last `drain` or `take`, forgotten afterwards. */
  drain(): WeftMessage[] {
    const sent = this.sent
    this.sent = []
    return sent
  }

  /** Like {@link drain}, keeping only the messages of `type`. */
  take<T extends WeftMessage['type']>(type: T): Sent<T>[] {
    return this.drain().filter((message): message is Sent<T> => message.type === type)
  }
}

export const DOC = 'doc'
export const ACK_TIMEOUT_MS = 15_000
export const REPAIR_AFTER_MS = 1_000

/** A handle on a memory store, a fake owner and a manual clock. */
export const makeHandle = (
  options: {
    store?: LocalStore
    ready?: boolean
    outboxLimits?: OutboxLimits
    outboxCompaction?: OutboxCompaction
  } = {},
): { handle: DocHandle; owner: FakeOwner; clock: ManualClock; store: LocalStore } => {
  const clock = new ManualClock()
  const owner = new FakeOwner()
  owner.ready = options.ready ?? true
  const store = options.store ?? new MemoryLocalStore()
  const settings: HandleSettings = {
    store,
    compactAfterUpdates: 500,
    repairAfterMs: REPAIR_AFTER_MS,
    ackTimeoutMs: ACK_TIMEOUT_MS,
    clock,
    outboxLimits: options.outboxLimits ?? null,
    outboxCompaction: options.outboxCompaction ?? null,
    tracer: null,
  }
  return { handle: new DocHandle(DOC, owner, settings), owner, clock, store }
}

/** The relay's side of one document, as far as a handle can tell: its state and its replies. */
export class RelayDouble {
  readonly doc = new Y.Doc()

  /** The relay's answer to `open`: what the client lacks, then its own state vector, then `saved`. */
  answerOpen(open: Sent<'open'>, durable = new Uint8Array([0])): WeftMessage[] {
    const update = Y.encodeStateAsUpdate(this.doc, open.stateVector)
    return [
      { type: 'sync-step-2', doc: DOC, ref: 0, update },
      { type: 'sync-step-1', doc: DOC, stateVector: Y.encodeStateVector(this.doc) },
      { type: 'saved', doc: DOC, ref: 0, stateVector: durable },
    ]
  }

  /** Applies what the client sent (its sync answer and live edits). */
  receive(messages: readonly WeftMessage[]): void {
    for (const message of messages) {
      if (message.type === 'sync-step-2' || message.type === 'update')
        Y.applyUpdate(this.doc, message.update)
      if (message.type === 'updates')
        for (const update of message.updates) Y.applyUpdate(this.doc, update)
    }
  }
}

/** Delivers relay messages to the handle. */
export const deliver = (handle: DocHandle, messages: readonly WeftMessage[]): void => {
  for (const message of messages) if ('doc' in message) handle.receive(message)
}

/**
 * Answers the handle's pending `open` as the relay does and hands the handle's answer to the
 * relay; returns what the handle sent in reply (its `sync-step-2` first).
 */
export const syncWith = (
  handle: DocHandle,
  owner: FakeOwner,
  relay: RelayDouble,
): WeftMessage[] => {
  const [open] = owner.take('open')
  if (open === undefined) throw new Error('the handle sent no open')
  deliver(handle, relay.answerOpen(open))
  const reply = owner.drain()
  relay.receive(reply)
  return reply
}

/** Text of the shared type the tests edit. */
export const text = (doc: Y.Doc): string => doc.getText('t').toString()

/** Appends `value` to the shared text (one local edit). */
export const type = (doc: Y.Doc, value: string): void => {
  const shared = doc.getText('t')
  shared.insert(shared.length, value)
}

/** Whether a promise has settled, without waiting for it. */
export const track = <T>(
  promise: Promise<T>,
): { readonly settled: boolean; readonly error: unknown; readonly resolved: boolean } => {
  const state = { settled: false, resolved: false, error: undefined as unknown }
  promise.then(
    () => Object.assign(state, { settled: true, resolved: true }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  )
  return state
}

/** A handle whose local copy has loaded and that has synced with a relay double. */
export const syncedHandle = async () => {
  const fixture = makeHandle()
  await fixture.handle.whenLoaded()
  const relay = new RelayDouble()
  syncWith(fixture.handle, fixture.owner, relay)
  return { ...fixture, relay }
}
