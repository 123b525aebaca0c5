/** startFaultProxy: a WebSocket test proxy that delays, duplicates, reorders, stalls, refuses and cuts. */
import { randomInt } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { ObservableV2 } from 'lib0/observable'
import { WebSocket, WebSocketServer } from 'ws'
import {
  isSendableCloseCode,
  mulberry32,
  Pair,
  type Counters,
  type FaultDirection,
  type FaultProxyStats,
  type Faults,
  type Shared,
} from './fault-lane.js'

export type { FaultDirection, FaultProxyStats } from './fault-lane.js'

/** One direction, or both. */
export type FaultDirections = FaultDirection | 'both'

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** The real server, `ws://127.0.0.1:<port>`; each client's path and query are appended. */
  target: string
  /** Seed of every random decision (a uint32). Default: a random one, readable as `proxy.seed`. */
  seed?: number
  /**
   * How long (ms) a frame held back for reordering waits for a successor before it goes alone.
   * Default 50.
   */
  reorderHoldMs?: number
}

/** Events of a {@link FaultProxy}: `stats` after any counter changed (to `until` a count). */
export interface FaultProxyEvents {
  stats: () => void
}

const rejectUpgrade = (socket: Duplex, status: string): void => {
  if (socket.destroyed) return
  socket.once('finish', () => socket.destroy())
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
}

const directionsOf = (directions: FaultDirections): FaultDirection[] =>
  directions === 'both' ? ['up', 'down'] : [directions]

const checkProbability = (method: string, probability: number): void => {
  if (!(probability >= 0 && probability <= 1))
    throw new RangeError(`${method}: probability must be in [0, 1], got ${probability}`)
}

/**
 * A fault-injecting WebSocket proxy in front of a real server; every fault can be changed while
 * it runs. Random decisions replay from `seed`: each connection (in accept order) and direction
 * gets its own stream, so a scripted run makes the same decisions on the same frames.
 */
export class FaultProxy extends ObservableV2<FaultProxyEvents> {
  /** The seed of every random decision; print it so that a failing run can be replayed. */
  readonly seed: number
  /** Live counters; they change as traffic flows (listen to `stats` to await one). */
  readonly stats: FaultProxyStats
  readonly #target: string
  readonly #shared: Shared
  readonly #nextSeed: () => number
  readonly #server: Server
  readonly #wss: WebSocketServer
  readonly #pairs = new Set<Pair>()
  readonly #pending = new Set<WebSocket>()
  readonly #sockets = new Set<Socket>()
  readonly #selected = new WeakMap<IncomingMessage, string>()
  #port = 0
  #refusing = false
  #closing: Promise<void> | null = null

  private constructor(target: string, seed: number, reorderHoldMs: number) {
    super()
    this.#target = target.replace(/\/$/, '')
    this.seed = seed
    const random = mulberry32(seed)
    this.#nextSeed = () => Math.floor(random() * 2 ** 32)
    const none = (): Faults => ({ delay: { minMs: 0, maxMs: 0 }, duplicate: 0, reorder: 0, cut: 0 })
    const counters: Counters = {
      connections: 0,
      refused: 0,
      cuts: 0,
      duplicated: 0,
      reordered: 0,
      forwarded: { up: 0, down: 0 },
      dropped: { up: 0, down: 0 },
    }
    this.stats = counters
    const changed = (): void => this.emit('stats', [])
    this.#shared = {
      faults: { up: none(), down: none() },
      blackHoled: false,
      counters,
      reorderHoldMs,
      changed,
    }
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      autoPong: false,
      handleProtocols: (_offered, request) => this.#selected.get(request) || false,
    })
    this.#server = createServer((_request, response) => response.writeHead(426).end())
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket)
      socket.once('close', () => this.#sockets.delete(socket))
    })
    this.#server.on('upgrade', (request, socket, head) => this.#upgrade(request, socket, head))
  }

  /** Starts a proxy; see {@link startFaultProxy}. */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const { target, seed = randomInt(2 ** 32), reorderHoldMs = 50 } = options
    if (!/^wss?:\/\//.test(target))
      throw new TypeError(`target must be a ws:// or wss:// URL, got ${target}`)
    if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)
      throw new TypeError(`seed must be a uint32, got ${seed}`)
    if (!(reorderHoldMs >= 0)) throw new RangeError(`reorderHoldMs must be >= 0`)
    const proxy = new FaultProxy(target, seed, reorderHoldMs)
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject)
      proxy.#server.listen(0, '127.0.0.1', resolve)
    })
    proxy.#port = (proxy.#server.address() as AddressInfo).port
    return proxy
  }

  /** `ws://127.0.0.1:<port>`: connect clients here instead of to the target. */
  get url(): string {
    return `ws://127.0.0.1:${this.#port}`
  }

  get port(): number {
    return this.#port
  }

  /** Connection pairs open now (neither side closed, not cut). */
  get connectionCount(): number {
    let count = 0
    for (const pair of this.#pairs) if (!pair.ending) count++
    return count
  }

  /**
   * Each frame (pings, pongs and closes too) waits a random delay in [minMs, maxMs] before it is
   * forwarded, still in order within its direction. Default 0.
   */
  setDelay(delay: { minMs: number; maxMs: number }, direction: FaultDirections = 'both'): void {
    const { minMs, maxMs } = delay
    if (!(minMs >= 0 && maxMs >= minMs))
      throw new RangeError(`setDelay: need 0 <= minMs <= maxMs, got ${minMs}, ${maxMs}`)
    for (const each of directionsOf(direction)) this.#shared.faults[each].delay = { minMs, maxMs }
  }

  /** With `probability`, a data frame is sent twice. Default 0. */
  setDuplicate(probability: number, direction: FaultDirections = 'both'): void {
    checkProbability('setDuplicate', probability)
    for (const each of directionsOf(direction)) this.#shared.faults[each].duplicate = probability
  }

  /**
   * With `probability`, a data frame is held back and sent right after the next one (an adjacent
   * swap); a held frame with no successor goes alone after `reorderHoldMs`. Default 0.
   *
   * The default direction is relay → client only: within one WebSocket, TCP never reorders
   * frames, and Weft's cumulative acknowledgement (`saved` with a ref) relies on the relay
   * receiving a client's frames in order. Reordering relay → client exercises out-of-order Yjs
   * updates and acks at the client. Pass `'up'` or `'both'` for tests that want the impossible.
   */
  setReorder(probability: number, direction: FaultDirections = 'down'): void {
    checkProbability('setReorder', probability)
    for (const each of directionsOf(direction)) this.#shared.faults[each].reorder = probability
  }

  /**
   * With `probability`, a data frame cuts its pair (a TCP reset both ways) instead of going
   * through. Default 0.
   */
  cutRandomly(probability: number, direction: FaultDirections = 'both'): void {
    checkProbability('cutRandomly', probability)
    for (const each of directionsOf(direction)) this.#shared.faults[each].cut = probability
  }

  /**
   * While on, frames both ways (data, pings, pongs, closes) stall in the proxy and connections
   * stay open, as when a network path dies under a TCP connection: nothing arrives, nothing
   * fails. Turned off, the stalled frames are delivered in order, as TCP would after the path
   * heals. A peer whose heartbeat gives up first closes its connection, and the frames stalled
   * on it are lost with it (counted as dropped).
   */
  blackHole(on: boolean): void {
    this.#shared.blackHoled = on
    if (!on) for (const pair of this.#pairs) pair.resume()
  }

  /** While on, new connections get `HTTP/1.1 503` at the upgrade, like a host that is down. */
  refuse(on: boolean): void {
    this.#refusing = on
  }

  /**
   * Drops every current pair at once: a TCP reset on both sides (peers see 1006), or with `code`
   * a close with that code. Frames still queued in the proxy are lost.
   */
  cutAll(options: { code?: number } = {}): void {
    const { code } = options
    if (code !== undefined && !isSendableCloseCode(code))
      throw new RangeError(`cutAll: ${code} is not a close code that can be sent`)
    for (const pair of this.#pairs) pair.cut(code)
  }

  /** Stops listening and terminates every socket; resolves once the listener is closed. */
  close(): Promise<void> {
    this.#closing ??= this.#shutDown()
    return this.#closing
  }

  async #shutDown(): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()))
    for (const upstream of this.#pending) upstream.terminate()
    for (const pair of this.#pairs) pair.destroy()
    for (const socket of this.#sockets) socket.destroy()
    this.#wss.close()
    await stopped
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {
      // A client that vanishes mid-handshake is not an error of the proxy.
    })
    if (this.#closing !== null) return void socket.destroy()
    if (this.#refusing) {
      this.#count('refused')
      return rejectUpgrade(socket, '503 Service Unavailable')
    }
    const offered = request.headers['sec-websocket-protocol'] ?? ''
    const protocols = offered.split(',').map((protocol) => protocol.trim())
    const upstream = new WebSocket(this.#target + (request.url ?? '/'), protocols.filter(Boolean), {
      autoPong: false,
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
    })
    upstream.on('error', () => {
      // The close event answers the client with 502.
    })
    this.#pending.add(upstream)
    let accepted = false
    const abandon = (): void => {
      if (!accepted) upstream.terminate()
    }
    socket.once('close', abandon)
    upstream.once('close', () => {
      this.#pending.delete(upstream)
      if (!accepted) rejectUpgrade(socket, '502 Bad Gateway')
    })
    upstream.once('open', () => {
      this.#pending.delete(upstream)
      if (this.#closing !== null) return upstream.terminate()
      this.#selected.set(request, upstream.protocol)
      // Completes synchronously unless the request is bad or the client left; then `abandon`.
      this.#wss.handleUpgrade(request, socket, head, (client) => {
        accepted = true
        socket.off('close', abandon)
        this.#accept(client, upstream)
      })
    })
  }

  #accept(client: WebSocket, upstream: WebSocket): void {
    const seed = this.#nextSeed
    const seeds = [seed(), seed(), seed(), seed()] as const
    const pair = new Pair(client, upstream, seeds, this.#shared, () => this.#pairs.delete(pair))
    this.#pairs.add(pair)
    this.#count('connections')
  }

  #count(counter: 'connections' | 'refused'): void {
    this.#shared.counters[counter]++
    this.#shared.changed()
  }
}

/**
 * Starts a {@link FaultProxy} on a free 127.0.0.1 port in front of `target`. Each client
 * connection opens an upstream connection with the same path, query and offered subprotocols,
 * and is accepted with the subprotocol the target chose (HTTP 502 if the target fails). Frames go
 * through unchanged (binary or text), pings and pongs are forwarded rather than answered, and a
 * close on one side closes the other with the same code. No faults until one is set.
 */
export const startFaultProxy = (options: FaultProxyOptions): Promise<FaultProxy> =>
  FaultProxy.start(options)
