/**
 * The network of the convergence simulation. Clients get a browser-style WebSocket
 * ({@link SimSocket}); what they send and what the relay answers waits in a queue per connection
 * and direction until the scheduler moves it. The relay side is a real `ws` socket to the real
 * relay, so the relay's own framing, handshake and sessions run as in production. Between two
 * scheduler steps nothing moves, which is what makes a seed replay exactly.
 */
import { WebSocket } from 'ws'

/** What waits in a queue: a data frame, or the end of the connection in that direction. */
export type SimEntry =
  | { readonly kind: 'frame'; readonly data: Uint8Array }
  | { readonly kind: 'close'; readonly code: number; readonly reason: string }

type SocketEvent = {
  type: string
  data?: unknown
  code?: number
  reason?: string
  wasClean?: boolean
}
type Handler = ((event: SocketEvent) => void) | null

/** A WebSocket as browsers have it (the part Weft's client and y-websocket use). */
export class SimSocket {
  static readonly CONNECTING = 0
  static readonly OPEN = 1
  static readonly CLOSING = 2
  static readonly CLOSED = 3
  readonly CONNECTING = 0
  readonly OPEN = 1
  readonly CLOSING = 2
  readonly CLOSED = 3
  readyState = 0
  binaryType = 'arraybuffer'
  protocol = ''
  readonly extensions = ''
  readonly bufferedAmount = 0
  onopen: Handler = null
  onmessage: Handler = null
  onclose: Handler = null
  onerror: Handler = null
  readonly url: string
  readonly #connection: SimConnection

  constructor(network: SimNetwork, client: number, url: string, protocols?: string | string[]) {
    this.url = url
    const list =
      protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : protocols
    this.#connection = network.register(this, client, url, list)
  }

  send(data: ArrayBufferLike | ArrayBufferView | string): void {
    if (this.readyState === SimSocket.CONNECTING) {
      throw new Error('InvalidStateError: send() on a WebSocket that is still connecting')
    }
    if (this.readyState !== SimSocket.OPEN) return
    const bytes =
      typeof data === 'string'
        ? new TextEncoder().encode(data)
        : ArrayBuffer.isView(data)
          ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice()
          : new Uint8Array(data).slice()
    this.#connection.enqueue('up', { kind: 'frame', data: bytes })
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === SimSocket.CLOSING || this.readyState === SimSocket.CLOSED) return
    if (this.readyState === SimSocket.CONNECTING) {
      // Closing a socket that never opened fails it: error, then close (as browsers do).
      this.#connection.abandon()
      return
    }
    this.readyState = SimSocket.CLOSING
    this.#connection.enqueue('up', { kind: 'close', code, reason })
  }

  /** @internal */
  fire(type: 'open' | 'message' | 'close' | 'error', event: SocketEvent): void {
    const handler =
      type === 'open'
        ? this.onopen
        : type === 'message'
          ? this.onmessage
          : type === 'close'
            ? this.onclose
            : this.onerror
    handler?.call(this, event)
  }
}

/** One client connection: its queues and, once the scheduler opened it, the socket to the relay. */
export class SimConnection {
  readonly id: number
  readonly client: number
  state: 'pending' | 'open' | 'closed' = 'pending'
  readonly up: SimEntry[] = []
  readonly down: SimEntry[] = []
  upstream: WebSocket | null = null
  readonly #network: SimNetwork
  readonly socket: SimSocket
  readonly url: string
  readonly protocols: readonly string[]

  constructor(
    network: SimNetwork,
    id: number,
    client: number,
    socket: SimSocket,
    url: string,
    protocols: readonly string[],
  ) {
    this.#network = network
    this.id = id
    this.client = client
    this.socket = socket
    this.url = url
    this.protocols = protocols
  }

  enqueue(direction: 'up' | 'down', entry: SimEntry): void {
    if (this.state === 'closed') return
    this[direction].push(entry)
    this.#network.touch()
  }

  /** The client gave up on a connection that never opened. */
  abandon(): void {
    this.state = 'closed'
    this.socket.readyState = SimSocket.CLOSED
    this.#network.forget(this)
    queueMicrotask(() => {
      this.socket.fire('error', { type: 'error' })
      this.socket.fire('close', { type: 'close', code: 1006, reason: '' })
    })
  }
}

/** What the scheduler did to the traffic, by kind of fault. */
export interface SimNetworkCounters {
  delivered: number
  duplicated: number
  reordered: number
  /** Frames lost in flight (with a dropped connection, or sent into a closed one). */
  lost: number
  /** Connections broken while open. */
  cuts: number
}

/** The connections of one simulation, and the moves the scheduler can make on them. */
export class SimNetwork {
  readonly #connections: SimConnection[] = []
  #nextId = 0
  /** Increases whenever anything happens; the scheduler waits until it stops. */
  activity = 0
  readonly partitioned = new Set<number>()
  readonly counters: SimNetworkCounters = {
    delivered: 0,
    duplicated: 0,
    reordered: 0,
    lost: 0,
    cuts: 0,
  }

  /**
   * A WebSocket constructor for client `client`. `route` maps the URL the client asked for to the
   * one its `n`th connection opens (several relays); default: as asked.
   */
  socketClass(
    client: number,
    route: (url: string, connection: number) => string = (url) => url,
  ): new (url: string, protocols?: string | string[]) => SimSocket {
    const network = this
    let connections = 0
    return class extends SimSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(network, client, route(url, connections++), protocols)
      }
    }
  }

  /** Live connections, oldest first. */
  get connections(): readonly SimConnection[] {
    return this.#connections
  }

  /** @internal */
  register(socket: SimSocket, client: number, url: string, protocols: string[]): SimConnection {
    const connection = new SimConnection(this, this.#nextId++, client, socket, url, protocols)
    this.#connections.push(connection)
    this.touch()
    return connection
  }

  /** @internal */
  forget(connection: SimConnection): void {
    const index = this.#connections.indexOf(connection)
    if (index >= 0) this.#connections.splice(index, 1)
    this.touch()
  }

  touch(): void {
    this.activity += 1
  }

  /** Opens a pending connection to the relay; the client sees `open` (or `close` on refusal). */
  async open(connection: SimConnection): Promise<void> {
    if (connection.state !== 'pending') return
    const upstream = new WebSocket(connection.url, [...connection.protocols])
    connection.upstream = upstream
    // Listen before `open` resolves: the relay's first frames can come in the handshake's chunk.
    upstream.on('message', (data: Buffer) => {
      connection.enqueue('down', { kind: 'frame', data: new Uint8Array(data) })
    })
    const opened = await new Promise<boolean>((resolve) => {
      upstream.once('open', () => resolve(true))
      upstream.once('error', () => resolve(false))
    })
    upstream.on('error', () => {})
    if (connection.state !== 'pending') {
      upstream.terminate()
      return
    }
    if (!opened) {
      connection.upstream = null
      this.#closeClientSide(connection, 1006, 'the relay refused the connection')
      return
    }
    connection.state = 'open'
    upstream.on('close', (code: number, reason: Buffer) => {
      connection.upstream = null
      connection.enqueue('down', { kind: 'close', code, reason: reason.toString() })
    })
    connection.socket.readyState = SimSocket.OPEN
    connection.socket.protocol = upstream.protocol
    this.touch()
    connection.socket.fire('open', { type: 'open' })
  }

  /**
   * Delivers entry `index` of a queue (0 is the oldest). With `keep` it stays queued (it will be
   * delivered again: a duplicate).
   */
  deliver(connection: SimConnection, direction: 'up' | 'down', index = 0, keep = false): void {
    const queue = connection[direction]
    const entry = queue[index]
    if (entry === undefined) return
    if (!keep) queue.splice(index, 1)
    this.counters.delivered += 1
    if (keep) this.counters.duplicated += 1
    if (index > 0) this.counters.reordered += 1
    this.touch()
    if (direction === 'up') {
      const upstream = connection.upstream
      if (entry.kind === 'frame') {
        if (upstream?.readyState === WebSocket.OPEN) upstream.send(entry.data)
        else this.counters.lost += 1
        return
      }
      // The client's close reached the relay: the connection is over.
      upstream?.close(entry.code >= 3000 || entry.code === 1000 ? entry.code : 1000, entry.reason)
      this.#closeClientSide(connection, entry.code, entry.reason)
      return
    }
    if (entry.kind === 'frame') {
      if (connection.socket.readyState !== SimSocket.OPEN) {
        this.counters.lost += 1
        return
      }
      const data = entry.data.buffer.slice(
        entry.data.byteOffset,
        entry.data.byteOffset + entry.data.byteLength,
      )
      connection.socket.fire('message', { type: 'message', data })
      return
    }
    this.#closeClientSide(connection, entry.code, entry.reason)
  }

  /** Breaks a connection at once, both ways: queued frames are lost, the client sees 1006. */
  cut(connection: SimConnection): void {
    this.counters.lost += connection.up.length + connection.down.length
    if (connection.state === 'open') this.counters.cuts += 1
    connection.up.length = 0
    connection.down.length = 0
    connection.upstream?.terminate()
    connection.upstream = null
    if (connection.state === 'pending') {
      connection.state = 'closed'
      this.forget(connection)
      connection.socket.readyState = SimSocket.CLOSED
      connection.socket.fire('error', { type: 'error' })
      connection.socket.fire('close', { type: 'close', code: 1006, reason: '' })
      return
    }
    this.#closeClientSide(connection, 1006, '')
  }

  /**
   * Resolves once every frame the relay has sent so far is in a queue: a ping on each relay
   * socket, answered after everything sent before it.
   */
  async barrier(): Promise<void> {
    const waits = this.#connections.flatMap((connection) => {
      const upstream = connection.upstream
      if (upstream === null || upstream.readyState !== WebSocket.OPEN) return []
      return new Promise<void>((resolve) => {
        const done = (): void => {
          upstream.off('pong', done)
          upstream.off('close', done)
          resolve()
        }
        upstream.on('pong', done)
        upstream.on('close', done)
        upstream.ping()
      })
    })
    await Promise.all(waits)
  }

  #closeClientSide(connection: SimConnection, code: number, reason: string): void {
    const wasClosed = connection.state === 'closed'
    connection.state = 'closed'
    if (connection.upstream !== null) {
      connection.upstream.terminate()
      connection.upstream = null
    }
    this.counters.lost += connection.up.length + connection.down.length
    connection.up.length = 0
    connection.down.length = 0
    this.forget(connection)
    if (wasClosed || connection.socket.readyState === SimSocket.CLOSED) return
    connection.socket.readyState = SimSocket.CLOSED
    connection.socket.fire('close', { type: 'close', code, reason, wasClean: code !== 1006 })
  }
}
