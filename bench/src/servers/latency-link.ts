/** LatencyLink: a TCP relay in front of a server that delays every byte, as a long path does. */
import { once } from 'node:events'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { nowMs } from '../clock.js'

/**
 * Writes what `from` sends to `to` `delayMs` after it arrived (and never before `notBeforeMs`),
 * in order, its end included.
 */
const delayedPipe = (from: Socket, to: Socket, delayMs: number, notBeforeMs: number): void => {
  const queue: Array<{ readonly atMs: number; readonly chunk: Buffer | null }> = []
  let timer: NodeJS.Timeout | null = null
  const pump = (): void => {
    timer = null
    let head = queue[0]
    while (head !== undefined && head.atMs <= nowMs()) {
      queue.shift()
      if (head.chunk === null) to.end()
      else to.write(head.chunk)
      head = queue[0]
    }
    if (head !== undefined) timer = setTimeout(pump, Math.max(1, Math.ceil(head.atMs - nowMs())))
  }
  const push = (chunk: Buffer | null): void => {
    queue.push({ atMs: Math.max(nowMs(), notBeforeMs) + delayMs, chunk })
    if (timer === null) pump()
  }
  from.on('data', (chunk: Buffer) => push(chunk))
  from.on('end', () => push(null))
}

/**
 * A link with a round-trip time of its own between clients and a server on loopback: each byte
 * waits half the round trip in either direction, and a connection's first bytes wait one round
 * trip more (the TCP handshake a real path makes before anything is sent). No bandwidth limit,
 * no loss, no TLS. For clients, it is the server at {@link url}.
 */
export class LatencyLink {
  readonly #server: Server
  readonly #sockets = new Set<Socket>()

  private constructor(server: Server) {
    this.#server = server
  }

  /** Starts a link on a free 127.0.0.1 port to the server at `127.0.0.1:targetPort`. */
  static async start(targetPort: number, rttMs: number): Promise<LatencyLink> {
    if (!(rttMs >= 0)) throw new RangeError(`rttMs must be >= 0, got ${rttMs}`)
    const server = createServer({ allowHalfOpen: true })
    const link = new LatencyLink(server)
    server.on('connection', (client) => link.#join(client, targetPort, rttMs))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return link
  }

  /** `ws://127.0.0.1:<port>`: connect clients here instead of to the server. */
  get url(): string {
    return `ws://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    const closed = once(this.#server, 'close')
    this.#server.close()
    for (const socket of this.#sockets) socket.destroy()
    await closed
  }

  #join(client: Socket, targetPort: number, rttMs: number): void {
    const acceptedMs = nowMs()
    const upstream = connect({ host: '127.0.0.1', port: targetPort, allowHalfOpen: true })
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.#sockets.add(socket)
      socket.setNoDelay(true)
      // A reset on one side resets the other; a clean end travels through the pipe.
      socket.on('error', () => other.destroy())
      socket.on('close', () => this.#sockets.delete(socket))
    }
    delayedPipe(client, upstream, rttMs / 2, acceptedMs + rttMs)
    delayedPipe(upstream, client, rttMs / 2, 0)
  }
}
