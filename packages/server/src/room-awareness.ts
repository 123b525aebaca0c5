/** RoomAwareness: a room's presence states, which peer announced which, and withdrawal on leave. */
import { WeftError } from '@weft/protocol'
import * as awarenessProtocol from 'y-protocols/awareness'
import type * as Y from 'yjs'
import { Outgoing } from './outgoing.js'

/**
 * The awareness of one room. The relay announces no state of its own; it remembers which awareness
 * client ids each peer announced, so that a peer that leaves has its states removed and the
 * removal sent to the others.
 */
export class RoomAwareness<Peer> {
  readonly awareness: awarenessProtocol.Awareness
  readonly #name: string
  readonly #owners = new Map<Peer, Set<number>>()
  readonly #broadcast: (message: Outgoing, except: Peer | null) => void
  #applying: Peer | null = null

  constructor(
    name: string,
    doc: Y.Doc,
    broadcast: (message: Outgoing, except: Peer | null) => void,
  ) {
    this.#name = name
    this.#broadcast = broadcast
    this.awareness = new awarenessProtocol.Awareness(doc)
    this.awareness.setLocalState(null)
    this.awareness.on('update', this.#track)
  }

  /** Applies an update from `peer` (recording its client ids when `member`); a malformed one is `BAD_MESSAGE`. */
  apply(peer: Peer, update: Uint8Array, member: boolean): WeftError | undefined {
    this.#applying = member ? peer : null
    try {
      awarenessProtocol.applyAwarenessUpdate(this.awareness, update, peer)
    } catch (cause) {
      return new WeftError('BAD_MESSAGE', 'the awareness update cannot be decoded', { cause })
    } finally {
      this.#applying = null
    }
    return undefined
  }

  /** An update with every known state, or `null` when nobody is present. */
  states(): Uint8Array | null {
    const ids = [...this.awareness.getStates().keys()]
    return ids.length === 0 ? null : awarenessProtocol.encodeAwarenessUpdate(this.awareness, ids)
  }

  /** Withdraws the states `peer` announced and tells the remaining peers. */
  leave(peer: Peer): void {
    const owned = this.#owners.get(peer)
    this.#owners.delete(peer)
    if (owned === undefined || owned.size === 0) return
    const ids = [...owned]
    awarenessProtocol.removeAwarenessStates(this.awareness, ids, 'leave')
    const known = ids.filter((id) => this.awareness.meta.has(id))
    if (known.length === 0) return
    const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, known)
    this.#broadcast(new Outgoing(this.#name, { kind: 'awareness', update }), null)
  }

  /** Stops the awareness timer. */
  destroy(): void {
    this.#owners.clear()
    this.awareness.destroy()
  }

  #track = (change: { added: number[]; updated: number[]; removed: number[] }): void => {
    for (const owned of this.#owners.values()) {
      for (const id of change.removed) owned.delete(id)
    }
    const peer = this.#applying
    if (peer === null) return
    let owned = this.#owners.get(peer)
    if (owned === undefined) this.#owners.set(peer, (owned = new Set()))
    for (const id of change.added) owned.add(id)
    for (const id of change.updated) owned.add(id)
  }
}
