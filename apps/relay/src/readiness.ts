/**
 * Readiness for `/readyz`: accepting connections, the store reachable, and the store writing. A
 * storage failure (an append refused, a disk full) makes the relay not ready until a write
 * succeeds again; while it is failing, each check tries one tiny write itself, so readiness comes
 * back with the disk even when no client is writing. A store on a server (PostgreSQL) is also
 * probed: not ready while it does not answer. Each check reports every dependency by name (the
 * store, and Redis when relays share one), so `/readyz` says which one is down.
 */
import type { DocStore } from '@weft/server'
import * as Y from 'yjs'

/** A document name no client can open (control characters are refused), for the probe write. */
const PROBE = '\u0001weft-readiness-probe'

/** Options of {@link Readiness}. */
export interface ReadinessOptions {
  /** How `/readyz` names the store: `leveldb`, `postgres`, `memory`. Default `store`. */
  readonly storeName?: string
  /** A cheap check that the store's server answers (rejects when it does not). Default: none. */
  readonly probe?: () => Promise<void>
  /** How long (ms) a probe's outcome is reused, so frequent checks cost one probe. Default 1,000. */
  readonly probeCacheMs?: number
  /**
   * The bus to other relays (Redis), reported but never making the relay unready: without it this
   * relay still serves its own clients. Default: none (a relay on its own).
   */
  readonly bus?: { readonly name: string; readonly up: () => boolean }
}

/** One dependency as a check found it: `failing` is reachable but refusing writes. */
export interface DependencyState {
  readonly name: string
  readonly state: 'up' | 'down' | 'failing'
}

/** The outcome of a readiness check, with every dependency it looked at. */
export type ReadinessState = (
  { ready: true; degraded?: string } | { ready: false; reason: string }
) & { readonly dependencies: readonly DependencyState[] }

const BUS_DOWN = "serving this relay's clients, other relays' edits arrive once it returns"

/**
 * The `/readyz` body: `ready` (with what is degraded) or why not, then one `name: state` line per
 * dependency, e.g. `ready\npostgres: up\nredis: up\n`.
 */
export const readinessText = (state: ReadinessState): string =>
  [
    state.ready
      ? state.degraded === undefined
        ? 'ready'
        : `ready (${state.degraded})`
      : state.reason,
    ...state.dependencies.map(({ name, state: up }) => `${name}: ${up}`),
  ].join('\n') + '\n'

export class Readiness {
  readonly #store: DocStore
  readonly #storeName: string
  readonly #probe: (() => Promise<void>) | undefined
  readonly #probeCacheMs: number
  readonly #bus: ReadinessOptions['bus']
  #probed: { atMs: number; outcome: Promise<string | null> } | null = null
  #accepting = true
  #failedAtMs = 0
  #okAtMs = 0

  constructor(store: DocStore, options: ReadinessOptions = {}) {
    this.#store = store
    this.#storeName = options.storeName ?? 'store'
    this.#probe = options.probe
    this.#probeCacheMs = options.probeCacheMs ?? 1000
    this.#bus = options.bus
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

  /** Whether to send traffic here, and if not, why; with the state of each dependency. */
  async check(): Promise<ReadinessState> {
    const bus = this.#bus
    const busUp = bus === undefined ? null : bus.up()
    const busStates: DependencyState[] =
      bus === undefined ? [] : [{ name: bus.name, state: busUp === true ? 'up' : 'down' }]
    if (!this.#accepting) return { ready: false, reason: 'stopping', dependencies: busStates }
    const store = await this.#storeState()
    const dependencies = [{ name: this.#storeName, state: store.state }, ...busStates]
    if (store.state === 'down')
      return { ready: false, reason: `store unreachable: ${store.detail}`, dependencies }
    if (store.state === 'failing')
      return { ready: false, reason: `storage failing: ${store.detail}`, dependencies }
    return busUp === false
      ? { ready: true, degraded: `${bus?.name} down: ${BUS_DOWN}`, dependencies }
      : { ready: true, dependencies }
  }

  async #storeState(): Promise<{ state: 'up' } | { state: 'down' | 'failing'; detail: string }> {
    const unreachable = await this.#probeOutcome()
    if (unreachable !== null) return { state: 'down', detail: unreachable }
    if (this.#failedAtMs <= this.#okAtMs) return { state: 'up' }
    try {
      const meta = { author: 'weft:readiness', correlationId: '', receivedAtMs: Date.now() }
      await this.#store.append(PROBE, [{ update: Y.encodeStateAsUpdate(new Y.Doc()), meta }])
      await this.#store.delete(PROBE)
      this.written()
      return { state: 'up' }
    } catch (error) {
      this.failed()
      return { state: 'failing', detail: String(error) }
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
