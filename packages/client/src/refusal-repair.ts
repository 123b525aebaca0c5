/** RefusalRepair: mending a document after the relay refused an edit, or an update was lost. */
import { isErrorCode, WeftError, type ErrorCode } from '@weft/protocol'
import type { ObservableV2 } from 'lib0/observable'
import type * as Y from 'yjs'
import type { DocHandleEvents, RejectedEdit } from './doc-handle-types.js'
import { newDocGuid } from './doc-guid.js'
import type { DocSession } from './doc-session.js'
import { LOCAL_COPY, type LocalEdits } from './local-edits.js'
import { rebuildDoc } from './remote-apply.js'
import type { Waiters } from './waiters.js'

/** What the repair needs from its document handle. */
export interface RepairHost {
  readonly name: string
  /** The current document (a rebuild replaces it). */
  readonly doc: Y.Doc
  readonly closed: boolean
  /** The document on the current connection. */
  readonly session: DocSession
  readonly edits: LocalEdits
  readonly waiters: Waiters
  /** The handle's refused edits, oldest first; refusals are appended. */
  readonly refused: RejectedEdit[]
  /** Structs waiting for a lost dependency this long trigger a fresh sync. */
  readonly repairAfterMs: number
  /** Where `rejected`, `pending` and `error` are emitted (the handle). */
  readonly events: Pick<ObservableV2<DocHandleEvents>, 'emit'>
  /** Puts a document rebuilt from the relay's state in place of the current one (emits `reset`). */
  replaceDoc(doc: Y.Doc): void
}

/**
 * A Yjs document cannot take an edit back. When the relay refuses one, the edit and every later
 * one (they build on it) are set aside in `refused`, their `whenSaved()` callers are rejected,
 * and the relay's whole state is asked for; its answer, plus the edits still waiting, becomes
 * the document anew. Until then the old document stays in place.
 *
 * Also: updates whose dependencies never arrived (a lost update) get some time, then the
 * document is synced afresh.
 */
export class RefusalRepair {
  readonly #host: RepairHost
  /** A refusal is being repaired: the relay's full state was asked for. */
  #resetting = false

  constructor(host: RepairHost) {
    this.#host = host
  }

  /** True from a refusal until the relay's whole state has rebuilt the document. */
  get resetting(): boolean {
    return this.#resetting
  }

  /** The relay refused `ref`: every edit it stood for (a whole batch) will never be stored. */
  refuse(ref: number, rawCode: string, reason: string): void {
    for (const each of this.#host.session.sender.refsOf(ref)) this.refuseOne(each, rawCode, reason)
  }

  /**
   * Edit `ref` will never be stored: sets it (with every edit merged into the same entry) and the
   * later edits aside, then resets.
   */
  refuseOne(ref: number, rawCode: string, reason: string): void {
    const { edits, events, name } = this.#host
    const code = isErrorCode(rawCode) ? rawCode : 'INTERNAL'
    const key = edits.outbox.keyOf(ref)
    if (key === undefined) {
      // Not a waiting edit (for example a whole resync): report it as it is.
      events.emit('error', [new WeftError(code, `${name}: update ${ref} refused: ${reason}`)])
      return
    }
    // Until the rebuild the document still holds what is set aside: a merge would take it in.
    edits.pauseMerging()
    const because = key === ref ? reason : `it holds edit ${ref}, which was refused: ${reason}`
    this.#setAside(key, code, because)
    // Later edits build on the refused one (its clocks, often its content): the relay could
    // never apply them either. They are set aside with it.
    for (const later of edits.outbox.refs()) {
      if (later < key) continue
      this.#setAside(later, code, `it follows edit ${ref}, which was refused`)
    }
    this.#host.waiters.saved(edits.outbox.oldestRef)
    events.emit('pending', [edits.pending])
    this.#reset()
  }

  /**
   * A sync step 2 arrived on the current connection. When it is the answer to the reset's `open`,
   * rebuilds the document from it and returns true; otherwise the caller applies it as usual.
   */
  syncArrived(update: Uint8Array): boolean {
    const partial = this.#host.session.syncArrived()
    if (!this.#resetting || partial) return false
    this.#rebuild(update)
    return true
  }

  /** After updates from the relay: if structs wait for a lost one, resync unless it turns up. */
  watchDependencies(): void {
    const host = this.#host
    if (!waitsForDependencies(host.doc) || host.session.timers.has('repair')) return
    // Give a reordered update time to arrive, then ask the relay for everything again.
    host.session.timers.set('repair', host.repairAfterMs, () => {
      if (host.session.opened && waitsForDependencies(host.doc)) host.session.resync()
    })
  }

  /** Sets the entry `ref` aside; the `whenSaved()` of every edit it stands for is rejected. */
  #setAside(ref: number, code: ErrorCode, reason: string): void {
    const { edits, waiters, refused, events, name } = this.#host
    const update = edits.outbox.get(ref) as Uint8Array
    const firstRef = edits.outbox.firstRefOf(ref) ?? ref
    edits.remove(ref, code, reason)
    const edit: RejectedEdit = { ref, firstRef, update, code, reason }
    refused.push(edit)
    waiters.refused(firstRef, new WeftError(code, `${name}: edit ${ref} refused: ${reason}`))
    events.emit('rejected', [edit])
  }

  /**
   * Asks the relay for its whole state (an `open` with an empty state vector); the answer
   * replaces the document (#rebuild). Not connected, the next `open` asks for it instead.
   */
  #reset(): void {
    if (this.#resetting || this.#host.closed) return
    this.#resetting = true
    // Answers to opens sent before this one are partial: they are applied as usual.
    if (this.#host.session.opened) this.#host.session.openForReset()
  }

  /** Builds the document anew from the relay's state and the edits still waiting. */
  #rebuild(relayState: Uint8Array): void {
    this.#resetting = false
    const { outbox } = this.#host.edits
    const waiting = outbox.refs().map((ref) => outbox.get(ref) as Uint8Array)
    this.#host.replaceDoc(rebuildDoc(relayState, waiting, LOCAL_COPY, newDocGuid()))
    this.#host.edits.resumeMerging()
  }
}

const waitsForDependencies = (doc: Y.Doc): boolean =>
  doc.store.pendingStructs !== null || doc.store.pendingDs !== null
