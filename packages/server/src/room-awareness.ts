/** RoomAwareness: a room's presence states, which peer announced which, withdrawal on leave, and coalesced fan-out. */
import { WeftError } from '@weft/protocol'
import * as awarenessProtocol from 'y-protocols/awareness'
import type * as Y from 'yjs'
import { Outgoing } from './outgoing.js'

/** The shortest presence tick (rooms of up to 50 peers). */
export const MIN_PRESENCE_TICK_MS = 50
const MAX_PRESENCE_TICK_MS = 250

/**
 * Presence changes of a room go out at most once per tick, merged: a room whose peers renew
 * presence often sends each peer one message per tick, not one per change. The tick is 50 ms,
 * and 1 ms per peer in rooms of more than 50 (at most 250 ms), so that what a room sends a
 * second stays near 1,000 messages however many peers renew. The first change after a quiet
 * tick goes out at once.
 */
export const presenceTickMs = (peers: number): number =>
  Math.min(MAX_PRESENCE_TICK_MS, Math.max(MIN_PRESENCE_TICK_MS, peers))

/** How a room's awareness reaches its peers. */
export interface PresenceFanout<Peer> {
  /** The room's current peers. */
  peers(): Iterable<Peer>
  /** How many there are. */
  peerCount(): number
  /** Sends `message` to `peer`. */
  deliver(peer: Peer, message: Outgoing): void
  /**
   * Sends what the room's own peers changed to the other relays (merged per tick, never what
   * came from another relay). Default: no other relays.
   */
  publish?(update: Uint8Array): void
}

/** Presence changes that came from another relay (their source in the pending changes). */
class RemoteRelay {
  constructor(readonly id: string) {}
}

/**
 * The awareness of one room. The relay announces no state of its own; it remembers which awareness
 * client ids each peer announced, so that a peer that leaves has its states removed and the
 * removal sent to the others. Only entries that change the relay's view are forwarded (stock
 * y-websocket clients send back every state they receive; those echoes stop here), merged per
 * tick, and never to the peer they came from.
 */
export class RoomAwareness<Peer> {
  readonly awareness: awarenessProtocol.Awareness
  readonly #name: string
  readonly #owners = new Map<Peer, Set<number>>()
  readonly #fanout: PresenceFanout<Peer>
  /** Client ids changed since the last flush, and the peer (or relay) each change came from. */
  readonly #pending = new Map<number, Peer | RemoteRelay>()
  readonly #relays = new Map<string, RemoteRelay>()
  #from: Peer | RemoteRelay | null = null
  #member = false
  #flushTimer: ReturnType<typeof setTimeout> | null = null
  #lastFlushMs = Number.NEGATIVE_INFINITY

  constructor(name: string, doc: Y.Doc, fanout: PresenceFanout<Peer>) {
    this.#name = name
    this.#fanout = fanout
    this.awareness = new awarenessProtocol.Awareness(doc)
    this.awareness.setLocalState(null)
    this.awareness.on('update', this.#track)
  }

  /**
   * Applies an update from `peer` (recording its client ids when `member`) and schedules what it
   * changed for the other peers; a malformed one is `BAD_MESSAGE`.
   */
  apply(peer: Peer, update: Uint8Array, member: boolean): WeftError | undefined {
    this.#from = peer
    this.#member = member
    try {
      awarenessProtocol.applyAwarenessUpdate(this.awareness, update, peer)
    } catch (cause) {
      return new WeftError('BAD_MESSAGE', 'the awareness update cannot be decoded', { cause })
    } finally {
      this.#from = null
      this.#member = false
    }
    if (this.#pending.size > 0) this.#scheduleFlush()
    return undefined
  }

  /**
   * Applies presence changes of another relay's sessions: they reach this room's peers within a
   * tick and are never published again. They expire (y-protocols' 30 s) unless renewed.
   */
  applyRemote(origin: string, update: Uint8Array): void {
    let relay = this.#relays.get(origin)
    if (relay === undefined) this.#relays.set(origin, (relay = new RemoteRelay(origin)))
    this.#from = relay
    try {
      awarenessProtocol.applyAwarenessUpdate(this.awareness, update, relay)
    } catch {
      // A malformed message on the bus: nothing of it is kept.
    } finally {
      this.#from = null
    }
    if (this.#pending.size > 0) this.#scheduleFlush()
  }

  /** An update with every known state, or `null` when nobody is present. */
  states(): Uint8Array | null {
    const ids = [...this.awareness.getStates().keys()]
    return ids.length === 0 ? null : awarenessProtocol.encodeAwarenessUpdate(this.awareness, ids)
  }

  /** An update with the states this room's own peers announced, or `null` when there are none. */
  localStates(): Uint8Array | null {
    const ids: number[] = []
    for (const owned of this.#owners.values()) {
      for (const id of owned) if (this.awareness.states.has(id)) ids.push(id)
    }
    return ids.length === 0 ? null : awarenessProtocol.encodeAwarenessUpdate(this.awareness, ids)
  }

  /**
   * Withdraws the states `peer` announced and tells the remaining peers at once, together with
   * its changes still waiting for the tick (a client that leaves often removes its state just
   * before).
   */
  leave(peer: Peer): void {
    const owned = this.#owners.get(peer)
    this.#owners.delete(peer)
    const ids = new Set(owned)
    for (const [id, from] of this.#pending) if (from === peer) ids.add(id)
    if (ids.size === 0) return
    if (owned !== undefined && owned.size > 0) {
      awarenessProtocol.removeAwarenessStates(this.awareness, [...owned], 'leave')
    }
    for (const id of ids) this.#pending.delete(id)
    const known = [...ids].filter((id) => this.awareness.meta.has(id))
    if (known.length === 0) return
    const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, known)
    const message = new Outgoing(this.#name, { kind: 'awareness', update })
    for (const other of this.#fanout.peers()) {
      if (other !== peer) this.#fanout.deliver(other, message)
    }
    this.#fanout.publish?.(update)
  }

  /** Stops the timers; pending changes are dropped with the room. */
  destroy(): void {
    if (this.#flushTimer !== null) clearTimeout(this.#flushTimer)
    this.#flushTimer = null
    this.#pending.clear()
    this.#owners.clear()
    this.awareness.destroy()
  }

  #scheduleFlush(): void {
    if (this.#flushTimer !== null) return
    const tickMs = presenceTickMs(this.#fanout.peerCount())
    const wait = Math.max(0, this.#lastFlushMs + tickMs - performance.now())
    this.#flushTimer = setTimeout(this.#flush, wait)
  }

  /**
   * Sends the changed states: one message for every peer that sent none of them, and for each
   * peer that did, the others' changes only.
   */
  #flush = (): void => {
    this.#flushTimer = null
    this.#lastFlushMs = performance.now()
    const bySender = new Map<Peer | RemoteRelay, number[]>()
    const all: number[] = []
    const local: number[] = []
    for (const [id, from] of this.#pending) {
      if (!this.awareness.meta.has(id)) continue
      all.push(id)
      if (!(from instanceof RemoteRelay)) local.push(id)
      const ids = bySender.get(from)
      if (ids === undefined) bySender.set(from, [id])
      else ids.push(id)
    }
    this.#pending.clear()
    if (all.length === 0) return
    let shared: Outgoing | undefined
    for (const peer of this.#fanout.peers()) {
      const own = bySender.get(peer)
      if (own === undefined) {
        shared ??= this.#message(all)
        this.#fanout.deliver(peer, shared)
      } else if (own.length < all.length) {
        const mine = new Set(own)
        this.#fanout.deliver(peer, this.#message(all.filter((id) => !mine.has(id))))
      }
    }
    if (local.length > 0 && this.#fanout.publish !== undefined) {
      this.#fanout.publish(awarenessProtocol.encodeAwarenessUpdate(this.awareness, local))
    }
  }

  #message(ids: readonly number[]): Outgoing {
    const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, [...ids])
    return new Outgoing(this.#name, { kind: 'awareness', update })
  }

  #track = (change: { added: number[]; updated: number[]; removed: number[] }): void => {
    for (const owned of this.#owners.values()) {
      for (const id of change.removed) owned.delete(id)
    }
    const peer = this.#from
    if (peer === null) return
    for (const list of [change.added, change.updated, change.removed]) {
      for (const id of list) this.#pending.set(id, peer)
    }
    if (!this.#member || peer instanceof RemoteRelay) return
    let owned = this.#owners.get(peer)
    if (owned === undefined) this.#owners.set(peer, (owned = new Set()))
    for (const id of change.added) owned.add(id)
    for (const id of change.updated) owned.add(id)
  }
}
