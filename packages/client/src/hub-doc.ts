/** HubDoc: one document as the hub tab serves it to the other tabs, over its own handle. */
import { summarizeUpdate } from '@weft/doc'
import { MAX_LIST_ITEMS, type TraceContext, type WeftMessage } from '@weft/protocol'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { DocHandle } from './doc-handle.js'
import type { RejectedEdit } from './doc-handle-types.js'

type DocMessage = Extract<WeftMessage, { doc: string }>

/** What the hub knows of one link that has the document open. */
interface LinkState {
  /** Origin of the transactions that apply this link's edits and presence upstream. */
  readonly origin: object
  /** State vectors of `open`s not answered yet (the hub answers once it is synced). */
  opens: Uint8Array[]
  /** At least one `open` was answered: live updates flow to the link. */
  answered: boolean
  /**
   * The link's edits waiting for the relay: its ref (0 for none), the upstream ref that covers
   * them, and the updates, passed to the other links once the relay has saved them. Ascending.
   */
  acks: Array<{ readonly linkRef: number; readonly upRef: number; readonly updates: Uint8Array[] }>
  /** Refusals to pass on once the upstream document is rebuilt. */
  refusals: Array<{ readonly linkRef: number; readonly code: string; readonly reason: string }>
  /** Yjs client ids whose presence came from this link. */
  readonly awarenessIds: Set<number>
  /** Remote updates to send, gathered over one tick. */
  outgoing: Uint8Array[]
}

/**
 * Serves one document to the links of the tab group as the relay would: `open` is answered
 * (sync-step-2, sync-step-1, presence) once the hub's own handle is loaded and synced with the
 * relay; a link's edits go into that handle's durable outbox byte for byte, and the link gets
 * `saved` only once the relay has acknowledged the upstream refs that carry them (never from the
 * hub's own copy); refusals come back to the link that made the edit; a link's edits reach the
 * other links once the relay has saved them, the relay's updates and all presence at once.
 */
export class HubDoc {
  readonly handle: DocHandle
  readonly #send: (link: string, message: DocMessage) => void
  readonly #connectionReady: () => boolean
  readonly #links = new Map<string, LinkState>()
  /** Origins of the links' transactions, to tell their changes from the relay's. */
  readonly #linkOrigins = new WeakSet<object>()
  /** Edits of links that left before the relay saved them: passed on once it has. */
  #departed: LinkState['acks'] = []
  #doc: Y.Doc
  #awareness: awarenessProtocol.Awareness
  /** An edit was refused upstream: answers wait until the handle has rebuilt its document. */
  #refusing = false
  #flushScheduled = false

  constructor(
    handle: DocHandle,
    send: (link: string, message: DocMessage) => void,
    connectionReady: () => boolean,
  ) {
    this.handle = handle
    this.#send = send
    this.#connectionReady = connectionReady
    this.#doc = handle.doc
    this.#awareness = handle.awareness
    this.#doc.on('update', this.#onUpdate)
    this.#awareness.on('update', this.#onAwareness)
    handle.on('synced', this.#answerOpens)
    handle.on('loaded', this.#answerOpens)
    handle.on('saved', this.#settle)
    handle.on('pending', this.#settle)
    handle.on('rejected', this.#onRejected)
    handle.on('reset', this.#onReset)
    handle.on('status', this.#onStatus)
  }

  /** True when no link has the document open. */
  get idle(): boolean {
    return this.#links.size === 0
  }

  /** A message from `link` about this document. */
  receive(
    link: string,
    message: DocMessage,
    traces: ReadonlyArray<TraceContext | null> = [],
  ): void {
    if (message.type === 'open') {
      const state = this.#links.get(link) ?? this.#attach(link)
      state.opens.push(message.stateVector)
      return this.#answerOpens()
    }
    const state = this.#links.get(link)
    if (state === undefined) {
      const reason = 'the document is not open on this link'
      return this.#send(link, {
        type: 'error',
        doc: this.handle.name,
        code: 'DOC_NOT_OPEN',
        reason,
      })
    }
    switch (message.type) {
      case 'close':
        return this.detach(link)
      case 'sync-step-2':
      case 'update':
        // A sync step 2 stands for many edits in one update: it carries the newest's context.
        return this.#forward(state, link, [message.update], message.ref, traces.slice(-1))
      case 'updates':
        return this.#forward(state, link, message.updates, message.ref, traces)
      case 'awareness':
        return this.#receiveAwareness(state, message.update)
      default:
        return
    }
  }

  /** The link closed the document or went away: its presence goes too. */
  detach(link: string): void {
    const state = this.#links.get(link)
    if (state === undefined) return
    this.#links.delete(link)
    for (const ack of state.acks) this.#departed.push(ack)
    if (state.awarenessIds.size > 0)
      awarenessProtocol.removeAwarenessStates(
        this.#awareness,
        [...state.awarenessIds],
        state.origin,
      )
  }

  /** Stops listening (the hub closes the handle itself). */
  dispose(): void {
    this.#doc.off('update', this.#onUpdate)
    this.#awareness.off('update', this.#onAwareness)
    for (const event of ['synced', 'loaded'] as const) this.handle.off(event, this.#answerOpens)
    this.handle.off('saved', this.#settle)
    this.handle.off('pending', this.#settle)
    this.handle.off('rejected', this.#onRejected)
    this.handle.off('reset', this.#onReset)
    this.handle.off('status', this.#onStatus)
    this.#links.clear()
  }

  #attach(link: string): LinkState {
    const origin = { link }
    this.#linkOrigins.add(origin)
    const state: LinkState = {
      origin,
      opens: [],
      answered: false,
      acks: [],
      refusals: [],
      awarenessIds: new Set(),
      outgoing: [],
    }
    this.#links.set(link, state)
    return state
  }

  /** Answers waiting `open`s as the relay does, once the hub's copy is synced with the relay. */
  #answerOpens = (): void => {
    if (!this.handle.synced || this.#refusing) return
    for (const [link, state] of this.#links) {
      const opens = state.opens
      if (opens.length === 0) continue
      state.opens = []
      const name = this.handle.name
      for (const stateVector of opens) {
        let update: Uint8Array
        try {
          update = Y.encodeStateAsUpdate(this.#doc, stateVector)
        } catch {
          const reason = 'the state vector of open cannot be decoded'
          this.#send(link, { type: 'error', doc: name, code: 'BAD_MESSAGE', reason })
          continue
        }
        this.#send(link, { type: 'sync-step-2', doc: name, ref: 0, update })
      }
      state.answered = true
      this.#send(link, {
        type: 'sync-step-1',
        doc: name,
        stateVector: Y.encodeStateVector(this.#doc),
      })
      const others = [...this.#awareness.getStates().keys()].filter(
        (id) => !state.awarenessIds.has(id),
      )
      if (others.length > 0) {
        const update = awarenessProtocol.encodeAwarenessUpdate(this.#awareness, others)
        this.#send(link, { type: 'awareness', doc: name, update })
      }
    }
  }

  /**
   * A link's edits go into the upstream outbox; its ref is acknowledged with theirs. Empty
   * updates (a sync step 2 of a link that lacks nothing) are acknowledged with the link's previous
   * edits, or at once.
   */
  #forward(
    state: LinkState,
    link: string,
    updates: readonly Uint8Array[],
    linkRef: number,
    traces: ReadonlyArray<TraceContext | null>,
  ): void {
    const carrying: Uint8Array[] = []
    const carryingTraces: Array<TraceContext | null> = []
    for (const [index, update] of updates.entries()) {
      const checked = summarizeUpdate(update)
      if (!checked.ok) {
        const { code, message: reason } = checked.error
        const doc = this.handle.name
        return this.#send(link, { type: 'rejected', doc, ref: linkRef, code, reason })
      }
      if (checked.summary.isEmpty) continue
      carrying.push(update)
      carryingTraces.push(traces[index] ?? null)
    }
    let upRef = state.acks.at(-1)?.upRef ?? 0
    if (carrying.length > 0) {
      try {
        upRef = this.handle.applyForwarded(carrying, state.origin, carryingTraces)
      } catch (error) {
        // Closed or not loaded yet: the link reopens later and sends its edits again.
        const reason = `the hub cannot take edits now: ${String(error)}`
        const doc = this.handle.name
        return this.#send(link, { type: 'error', doc, code: 'UNAVAILABLE', reason })
      }
    }
    state.acks.push({ linkRef, upRef, updates: carrying })
    if (carrying.length === 0) this.#settle()
  }

  /**
   * Acknowledges to each link the refs whose upstream edits the relay has saved, and passes those
   * edits to the other links only now: an edit the relay refuses never reaches another tab.
   */
  #settle = (): void => {
    const oldest = this.handle.oldestPendingRef
    const waiting: LinkState['acks'] = []
    for (const ack of this.#departed) {
      if (oldest !== undefined && ack.upRef >= oldest) waiting.push(ack)
      else for (const update of ack.updates) this.#queue(update, null)
    }
    this.#departed = waiting
    for (const [link, state] of this.#links) {
      let settled = 0
      let linkRef = 0
      for (const ack of state.acks) {
        if (oldest !== undefined && ack.upRef >= oldest) break
        settled += 1
        if (ack.linkRef > 0) linkRef = ack.linkRef
        for (const update of ack.updates) this.#queue(update, state.origin)
      }
      if (settled === 0) continue
      state.acks.splice(0, settled)
      if (linkRef === 0) continue
      const stateVector = new Uint8Array([0])
      this.#send(link, { type: 'saved', doc: this.handle.name, ref: linkRef, stateVector })
    }
  }

  /**
   * The relay refused an upstream edit: the link edits it carried are refused too — every one
   * from its `firstRef` when it merged several.
   */
  #onRejected = (edit: RejectedEdit): void => {
    this.#refusing = true
    const refused = (ack: { upRef: number }): boolean =>
      ack.upRef >= edit.firstRef && ack.upRef <= edit.ref
    this.#departed = this.#departed.filter((ack) => !refused(ack))
    for (const state of this.#links.values()) {
      const kept = state.acks.filter((ack) => !refused(ack))
      for (const ack of state.acks)
        if (refused(ack))
          state.refusals.push({ linkRef: ack.linkRef, code: edit.code, reason: edit.reason })
      state.acks = kept
    }
  }

  /** The handle rebuilt its document after a refusal: follow it, then tell the links. */
  #onReset = (event: { doc: Y.Doc; awareness: awarenessProtocol.Awareness }): void => {
    this.#doc.off('update', this.#onUpdate)
    this.#awareness.off('update', this.#onAwareness)
    this.#doc = event.doc
    this.#awareness = event.awareness
    this.#doc.on('update', this.#onUpdate)
    this.#awareness.on('update', this.#onAwareness)
    this.#refusing = false
    for (const [link, state] of this.#links) {
      for (const { linkRef, code, reason } of state.refusals)
        this.#send(link, { type: 'rejected', doc: this.handle.name, ref: linkRef, code, reason })
      state.refusals = []
    }
    this.#answerOpens()
  }

  /**
   * The relay closed the document upstream while the connection stayed up: the links' opens end
   * too, with the same code, and they reopen later. (When the connection itself goes, every link
   * is told so and resets on its own.)
   */
  #onStatus = (status: { state: string; code?: string; reason?: string }): void => {
    if (status.state === 'synced' || status.state === 'syncing') return
    const failed = status.state === 'error'
    if (!failed && !this.#connectionReady()) return
    for (const [link, state] of this.#links) {
      if (!state.answered && state.opens.length === 0) continue
      state.answered = false
      state.opens = []
      const code = failed ? (status.code ?? 'INTERNAL') : 'UNAVAILABLE'
      const reason = status.reason ?? 'the document is being reopened'
      this.#send(link, { type: 'error', doc: this.handle.name, code, reason })
    }
  }

  #receiveAwareness(state: LinkState, update: Uint8Array): void {
    try {
      awarenessProtocol.applyAwarenessUpdate(this.#awareness, update, state.origin)
    } catch {
      // A malformed presence update changes nothing; presence is not worth the link.
    }
  }

  /** Presence changes go to the other links, and those of links to the relay. */
  #onAwareness = (
    change: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    const ids = [...change.added, ...change.updated, ...change.removed]
    if (ids.length === 0) return
    const update = awarenessProtocol.encodeAwarenessUpdate(this.#awareness, ids)
    const name = this.handle.name
    for (const [link, state] of this.#links) {
      if (state.origin === origin) {
        for (const id of change.added) state.awarenessIds.add(id)
        for (const id of change.updated) state.awarenessIds.add(id)
        for (const id of change.removed) state.awarenessIds.delete(id)
        this.handle.sendAwareness(update)
      } else if (state.answered) {
        this.#send(link, { type: 'awareness', doc: name, update })
      }
    }
    // A link that already left (its presence removed after detach) still tells the relay.
    if (this.#isLinkOrigin(origin) && ![...this.#links.values()].some((s) => s.origin === origin))
      this.handle.sendAwareness(update)
  }

  /**
   * Changes of the hub's copy from the relay go to the links at once; those a link made wait for
   * the relay's acknowledgement (#settle).
   */
  #onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (!this.#isLinkOrigin(origin)) this.#queue(update, origin)
  }

  /** Queues an update for every answered link but the one it came from; sent next microtask. */
  #queue(update: Uint8Array, origin: unknown): void {
    let queued = false
    for (const state of this.#links.values()) {
      if (!state.answered || state.origin === origin) continue
      state.outgoing.push(update)
      queued = true
    }
    if (!queued || this.#flushScheduled) return
    this.#flushScheduled = true
    queueMicrotask(() => this.#flush())
  }

  #isLinkOrigin(origin: unknown): boolean {
    return typeof origin === 'object' && origin !== null && this.#linkOrigins.has(origin)
  }

  #flush(): void {
    this.#flushScheduled = false
    const doc = this.handle.name
    for (const [link, state] of this.#links) {
      const outgoing = state.outgoing
      if (outgoing.length === 0) continue
      state.outgoing = []
      for (let start = 0; start < outgoing.length; start += MAX_LIST_ITEMS) {
        const updates = outgoing.slice(start, start + MAX_LIST_ITEMS)
        this.#send(link, { type: 'updates', doc, ref: 0, updates })
      }
    }
  }
}
