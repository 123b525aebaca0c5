/** DocPresence: a document's awareness on the wire — announce, forward, forget, withdraw. */
import * as awarenessProtocol from 'y-protocols/awareness'

/**
 * Sends this client's awareness changes while the document is open, announces its state when
 * the document syncs, forgets the other clients' states when the connection goes, and withdraws
 * its own when the document closes.
 */
export class DocPresence {
  readonly awareness: awarenessProtocol.Awareness
  readonly #owned: boolean
  readonly #send: (update: Uint8Array) => void
  readonly #open: () => boolean

  /** `awareness` is destroyed with this object only when `owned` (the handle created it). */
  constructor(
    awareness: awarenessProtocol.Awareness,
    owned: boolean,
    send: (update: Uint8Array) => void,
    open: () => boolean,
  ) {
    this.awareness = awareness
    this.#owned = owned
    this.#send = send
    this.#open = open
    awareness.on('update', this.#onUpdate)
  }

  /**
   * Sends this client's state, if it has one (after the document synced). It is set again first,
   * which advances its clock: the relay dropped the state when the last connection closed but
   * kept its clock, and would ignore the same clock sent again.
   */
  announce(): void {
    const { awareness } = this
    const state = awareness.getLocalState()
    if (state === null) return
    // Emits a local `update`, which #onUpdate sends (the document is open by now).
    awareness.setLocalState(state)
  }

  /** Applies another client's awareness update. */
  receive(update: Uint8Array, origin: unknown): void {
    awarenessProtocol.applyAwarenessUpdate(this.awareness, update, origin)
  }

  /**
   * The connection went: the other clients' states are no longer known. Their clocks are
   * forgotten too: on the next connection the relay sends each unchanged state under the clock
   * already seen, which y-protocols would ignore until the state's 15 s renewal.
   */
  forgetOthers(origin: unknown): void {
    const others = [...this.awareness.getStates().keys()].filter(
      (id) => id !== this.awareness.clientID,
    )
    awarenessProtocol.removeAwarenessStates(this.awareness, others, origin)
    for (const id of others) this.awareness.meta.delete(id)
  }

  /** Removes this client's state (telling the relay while the document is open) and stops. */
  withdraw(): void {
    awarenessProtocol.removeAwarenessStates(this.awareness, [this.awareness.clientID], 'local')
    this.awareness.off('update', this.#onUpdate)
    if (this.#owned) this.awareness.destroy()
  }

  #onUpdate = (
    change: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    if (origin !== 'local' || !this.#open()) return
    const ids = [...change.added, ...change.updated, ...change.removed]
    this.#send(awarenessProtocol.encodeAwarenessUpdate(this.awareness, ids))
  }
}
