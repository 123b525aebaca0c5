/** RelayRing: relay processes on fixed ports, each behind its own fault proxy, killed one by one. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFaultProxy, type FaultProxy } from './fault-proxy.js'
import { spawnRelay, type RelayProcess } from './relay-process.js'
import { freePort } from './run-support.js'

/** Options of {@link RelayRing.open}. */
export interface RelayRingOptions {
  /** Path of the relay's `main.ts`. */
  readonly relayMain: string
  readonly relays: number
  /** Arguments every relay gets (the shared store and bus). */
  readonly args: readonly string[]
  /** Seed of proxy `i` is `seed + i`. */
  readonly seed: number
}

/**
 * Relays on fixed ports, so a restarted relay is where its proxy expects it. The proxies delay
 * frames 0–20 ms and duplicate and reorder 2% of them, as the single-relay set check's does.
 */
export class RelayRing {
  readonly #relays: Array<RelayProcess | null>
  readonly #ports: readonly number[]
  readonly #dirs: readonly string[]
  readonly #options: RelayRingOptions
  #proxies: readonly FaultProxy[] = []

  private constructor(options: RelayRingOptions, ports: readonly number[]) {
    this.#options = options
    this.#ports = ports
    this.#relays = ports.map(() => null)
    this.#dirs = ports.map(() => mkdtempSync(join(tmpdir(), 'weft-relay-ring-')))
  }

  /** Starts the relays one at a time (the first creates the shared schema), then the proxies. */
  static async open(options: RelayRingOptions): Promise<RelayRing> {
    const ports = await Promise.all(Array.from({ length: options.relays }, () => freePort()))
    const ring = new RelayRing(options, ports)
    try {
      for (let index = 0; index < options.relays; index++) await ring.start(index)
      ring.#proxies = await Promise.all(
        ports.map(async (port, index) => {
          const proxy = await startFaultProxy({
            target: `ws://127.0.0.1:${port}`,
            seed: (options.seed + index) >>> 0,
          })
          proxy.setDelay({ minMs: 0, maxMs: 20 })
          proxy.setDuplicate(0.02)
          proxy.setReorder(0.02)
          return proxy
        }),
      )
    } catch (error) {
      await ring.close()
      throw error
    }
    return ring
  }

  get size(): number {
    return this.#ports.length
  }

  /** Whether relay `index` runs (it was not killed, or was restarted since). */
  live(index: number): boolean {
    const relay = this.#relays[index]
    return relay != null && relay.child.exitCode === null && relay.child.signalCode === null
  }

  /** The URL of relay `index`'s fault proxy. */
  proxyUrl(index: number): string {
    const proxy = this.#proxies[index]
    if (proxy === undefined) throw new RangeError(`no relay ${index}`)
    return proxy.url
  }

  /** Relay `index` itself (no proxy). */
  relay(index: number): RelayProcess {
    const relay = this.#relays[index]
    if (relay == null) throw new Error(`relay ${index} is not running`)
    return relay
  }

  /** Starts relay `index` on its port (after a kill, on the same directory). */
  async start(index: number): Promise<void> {
    const args = ['--port', String(this.#ports[index]), ...this.#options.args]
    const dir = this.#dirs[index] as string
    this.#relays[index] = await spawnRelay(this.#options.relayMain, dir, args)
  }

  /** SIGKILLs relay `index` and resolves once it exited. */
  async kill(index: number): Promise<void> {
    await this.#relays[index]?.stop('SIGKILL')
  }

  /** Closes the proxies, kills every relay and removes their directories. */
  async close(): Promise<void> {
    await Promise.all(this.#proxies.map((proxy) => proxy.close()))
    await Promise.all(this.#ports.map((_, index) => this.kill(index)))
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true })
  }
}
