/**
 * Readiness for `/readyz`: accepting connections, the store reachable, and the store writing. A
 * storage failure (an append refused, a disk full) makes the relay not ready until a write
 * succeeds again; while it is failing, each check tries one tiny write itself, so readiness comes
 * back with the disk even when no client is writing. A store on a server (PostgreSQL) is also
 * probed: not ready while it does not answer.
 */
import type { DocStore } from '@weft/server'
import * as Y from 'yjs'

/** A document name no client can open (control characters are refused), for the probe write. */
const PROBE = '\u0001weft-readiness-probe'

/** Options of {@link Readiness}. */
export interface ReadinessOptions {
  /** A cheap check that the store's server answers (rejects when it does not). Default: none. */
  readonly probe?: () => Promise<void>
  /** How long (ms) a probe's outcome is reused, so frequent checks cost one probe. Default 1,000. */
  readonly probeCacheMs?: number
  /**
   * What is down without making the relay unready (the bus to other relays: this relay still
   * serves its own clients), or null. Default: nothing.
   */
  readonly degraded?: () => string | null
}

/** The outcome of a readiness check. */
export type ReadinessState = { ready: true; degraded?: string } | { ready: false; reason: string }

export class Readiness {
  readonly #store: DocStore
  readonly #probe: (() => Promise<void>) | undefined
  readonly #probeCacheMs: number
  readonly #degraded: () => string | null
  #probed: { atMs: number; outcome: Promise<string | null> } | null = null
  #accepting = true
  #failedAtMs = 0
  #okAtMs = 0

  constructor(store: DocStore, options: ReadinessOptions = {}) {
    this.#store = store
    this.#probe = options.probe
    this.#probeCacheMs = options.probeCacheMs ?? 1000
    this.#degraded = options.degraded ?? (() => null)
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
  async check(): Promise<ReadinessState> {
    const state = await this.#storeState()
    const degraded = state.ready ? this.#degraded() : null
    return degraded === null ? state : { ready: true, degraded }
  }

  async #storeState(): Promise<ReadinessState> {
    if (!this.#accepting) return { ready: false, reason: 'stopping' }
    const unreachable = await this.#probeOutcome()
    if (unreachable !== null) return { ready: false, reason: `store unreachable: ${unreachable}` }
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

  /** Why the probe failed (null: it answered), from a probe at most `probeCacheMs` old. */
  #probeOutcome(): Promise<string | null> {
    const probe = this.#probe
    if (probe === undefined) return Promise.resolve(null)
    const now = Date.now()
    if (this.#probed === null || now - this.#probed.atMs >= this.#probeCacheMs) {
      const outcome = probe().then(
        () => null,
        (error: unknown) => String(error),
      )
      this.#probed = { atMs: now, outcome }
    }
    return this.#probed.outcome
  }
}
