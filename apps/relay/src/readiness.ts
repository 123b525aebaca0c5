/**
 * Readiness for `/readyz`: accepting connections, and the store writing. A storage failure (an
 * append refused, a disk full) makes the relay not ready until a write succeeds again; while it
 * is failing, each check tries one tiny write itself, so readiness comes back with the disk even
 * when no client is writing.
 */
import type { DocStore } from '@weft/server'
import * as Y from 'yjs'

/** A document name no client can open (control characters are refused), for the probe write. */
const PROBE = '\u0001weft-readiness-probe'

export class Readiness {
  readonly #store: DocStore
  #accepting = true
  #failedAtMs = 0
  #okAtMs = 0

  constructor(store: DocStore) {
    this.#store = store
  }

  /** The relay is stopping: not ready from now on. */
  stopAccepting(): void {
    this.#accepting = false
  }

  /** A write reached the disk. */
  written(): void {
    this.#okAtMs = Date.now()
  }

  /** A write failed. */
  failed(): void {
    this.#failedAtMs = Date.now()
  }

  /** Whether to send traffic here, and if not, why. */
  async check(): Promise<{ ready: true } | { ready: false; reason: string }> {
    if (!this.#accepting) return { ready: false, reason: 'stopping' }
    if (this.#failedAtMs <= this.#okAtMs) return { ready: true }
    try {
      const meta = { author: 'weft:readiness', correlationId: '', receivedAtMs: Date.now() }
      await this.#store.append(PROBE, [{ update: Y.encodeStateAsUpdate(new Y.Doc()), meta }])
      await this.#store.delete(PROBE)
      this.written()
      return { ready: true }
    } catch (error) {
      this.failed()
      return { ready: false, reason: `storage failing: ${String(error)}` }
    }
  }
}
