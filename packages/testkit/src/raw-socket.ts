/** RawSocket: a bare ws client that sends exactly the bytes a test gives it and records replies. */
import {
  decodeMessage,
  encodeMessage,
  PROTOCOL_VERSION,
  WEFT_SUBPROTOCOL,
  type WeftMessage,
} from '@weft/protocol'
import { WebSocket } from 'ws'

/**
 * A socket for protocol tests. `frames` holds every binary frame received; `closed` resolves with
 * the close code and reason.
 */
export class RawSocket {
  readonly frames: Uint8Array[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  readonly #socket: WebSocket
  readonly #waiters = new Set<() => void>()

  private constructor(socket: WebSocket) {
    this.#socket = socket
    socket.on('message', (data: Buffer) => {
      this.frames.push(new Uint8Array(data))
      for (const waiter of this.#waiters) waiter()
    })
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() })
        for (const waiter of this.#waiters) waiter()
      })
    })
  }

  /**
   * Opens a socket to `url` (with the Weft subprotocol when `weft`) and waits until it is open.
   * With `answerPings: false` it ignores WebSocket pings, like a peer on a dead network.
   */
  static async open(url: string, weft: boolean, { answerPings = true } = {}): Promise<RawSocket> {
    const socket = new WebSocket(url, weft ? [WEFT_SUBPROTOCOL] : [], { autoPong: answerPings })
    socket.on('error', () => {
      // The close event reports the outcome.
    })
    const raw = new RawSocket(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('close', (code) => reject(new Error(`socket closed (${code}) before opening`)))
    })
    return raw
  }

  /** Opens a Weft socket and completes hello/welcome (speaking protocol `version`). */
  static async weft(url: string, version = PROTOCOL_VERSION): Promise<RawSocket> {
    const raw = await RawSocket.hello(url, '', version)
    await raw.nextMessage((message) => message.type === 'welcome')
    return raw
  }

  /** Opens a Weft socket and sends `hello` with `token`, without waiting for the answer. */
  static async hello(url: string, token: string, version = PROTOCOL_VERSION): Promise<RawSocket> {
    const raw = await RawSocket.open(url, true)
    raw.sendMessage({
      type: 'hello',
      minVersion: version,
      maxVersion: version,
      token,
      correlationId: 'raw',
      client: 'raw-socket',
    })
    return raw
  }

  /** True while the socket is open. */
  get open(): boolean {
    return this.#socket.readyState === WebSocket.OPEN
  }

  /** Sends raw bytes (binary) or a string (a text frame). */
  send(data: Uint8Array | string): void {
    this.#socket.send(data)
  }

  /** Encodes and sends a Weft message. */
  sendMessage(message: WeftMessage): void {
    this.#socket.send(encodeMessage(message))
  }

  /** Resolves with the first received frame (from the start) that `accept` takes; rejects on close or timeout. */
  nextFrame(
    accept: (frame: Uint8Array) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<Uint8Array> {
    let seen = 0
    return new Promise((resolve, reject) => {
      const check = (): void => {
        for (; seen < this.frames.length; seen++) {
          const frame = this.frames[seen] as Uint8Array
          if (accept(frame)) return finish(() => resolve(frame))
        }
        if (this.#socket.readyState === WebSocket.CLOSED)
          finish(() => reject(new Error('socket closed')))
      }
      const finish = (settle: () => void): void => {
        clearTimeout(timer)
        this.#waiters.delete(check)
        settle()
      }
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no matching frame within ${timeoutMs} ms`))),
        timeoutMs,
      )
      this.#waiters.add(check)
      check()
    })
  }

  /** Like {@link nextFrame}, decoding Weft messages. */
  async nextMessage(
    accept: (message: WeftMessage) => boolean,
    timeoutMs = 5000,
  ): Promise<WeftMessage> {
    const frame = await this.nextFrame((bytes) => {
      try {
        return accept(decodeMessage(bytes))
      } catch {
        return false
      }
    }, timeoutMs)
    return decodeMessage(frame)
  }

  /** Closes the socket. */
  close(): void {
    this.#socket.close()
  }
}
