/** SocketLink: one ws socket's plumbing shared by both dialects: framing rules, caps, closing. */
import { WeftError } from '@weft/protocol'
import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'
import { bindLogger, type LogContext, type Logger } from './logger.js'
import type { RelayMetrics } from './metrics.js'
import { TokenBucket } from './token-bucket.js'

/** What a dialect session does with a socket's events. */
export interface SocketHandler {
  /**
   * One binary frame: a view that is only valid during the call (copy what you keep). Returns
   * the bytes it stood for when more than its own (a compressed frame, inflated), which the
   * rate limits then charge instead.
   */
  onFrame(frame: Uint8Array): number | void
  /** The socket closed, for whatever reason; called once. */
  onClosed(): void
  /** A frame to send just before the socket is closed for `error` (the Weft dialect's `error`). */
  farewell?(error: WeftError): Uint8Array | undefined
}

/** Limits of one socket, resolved by the relay. */
export interface SocketLimits {
  /** Close the socket with `SLOW_CONSUMER` when more than this many bytes wait to be sent. */
  readonly maxBufferedBytes: number
  /** Messages a second the socket may send (twice as many in a burst); 0: no such limit. */
  readonly maxMessagesPerSecond: number
  /**
   * Bytes a second the socket may send (twice as many in a burst), each message counting
   * {@link MESSAGE_COST_BYTES} more than its size; beyond, reading pauses.
   */
  readonly maxBytesPerSecond: number
}

/**
 * What a message costs the relay beyond its bytes (decoding, a transaction, a log entry, fan-out),
 * counted against `maxBytesPerSecond`: with the default 8 MiB/s a socket of tiny messages gets
 * about 30,000 a second (60,000 in a burst) — more than a fast writer sends, and a bound on the
 * CPU one socket can take.
 */
export const MESSAGE_COST_BYTES = 256

/**
 * Wraps a ws socket: rejects text frames (`UNSUPPORTED_DATA`), turns any error a handler throws
 * into a close with that error's code (never a crash), closes slow consumers, and tracks
 * liveness for heartbeats. The ws server enforces `maxMessageBytes` itself (close 1009).
 */
export class SocketLink {
  readonly id: string
  readonly #socket: WebSocket
  readonly #transport: Duplex
  #corked = false
  readonly #limits: SocketLimits
  #logger: Logger
  readonly #metrics: RelayMetrics
  #handler: SocketHandler | null = null
  #closed = false
  #alive = true
  readonly #messages: TokenBucket | null
  readonly #bytes: TokenBucket
  #throttle: ReturnType<typeof setTimeout> | null = null
  /** Frames received while throttled (at most what was already read), handled in order later. */
  #deferred: Uint8Array[] = []

  /**
   * `transport` is the TCP socket under `socket`: sends are corked on it until the end of the
   * current tick, so a burst of fan-out frames leaves in one write instead of one per frame.
   */
  constructor(
    id: string,
    socket: WebSocket,
    transport: Duplex,
    limits: SocketLimits,
    logger: Logger,
    metrics: RelayMetrics,
  ) {
    this.id = id
    this.#socket = socket
    this.#transport = transport
    this.#limits = limits
    this.#logger = logger
    this.#metrics = metrics
    const perSecond = limits.maxMessagesPerSecond
    this.#messages = perSecond > 0 ? new TokenBucket(perSecond, perSecond * 2) : null
    this.#bytes = new TokenBucket(limits.maxBytesPerSecond, limits.maxBytesPerSecond * 2)
    socket.on('message', (data: Buffer, isBinary: boolean) => this.#receive(data, isBinary))
    socket.on('pong', () => {
      this.#alive = true
    })
    socket.on('error', (error: Error & { code?: string }) => {
      // ws reports protocol errors (oversized frame, bad opcode) here and closes the socket itself.
      this.#logger.info('socket error', { code: error.code, error: error.message })
    })
    socket.on('close', (code: number) => {
      this.#closed = true
      if (this.#throttle !== null) clearTimeout(this.#throttle)
      this.#logger.debug('socket closed', { closeCode: code })
      this.#metrics.socketClosed(code)
      this.#handler?.onClosed()
    })
  }

  /** Adds `context` (user, correlation id) to every later log line about this socket. */
  bindLog(context: LogContext): void {
    this.#logger = bindLogger(this.#logger, context)
  }

  /** Sets who receives this socket's frames; frames arriving before that are not expected. */
  setHandler(handler: SocketHandler): void {
    this.#handler = handler
  }

  /** True until the socket starts closing. */
  get open(): boolean {
    return !this.#closed
  }

  /** Sends one binary frame; closes the socket instead when its send buffer is over the cap. */
  send(frame: Uint8Array): void {
    if (this.#closed) return
    if (this.#socket.bufferedAmount > this.#limits.maxBufferedBytes) {
      this.#metrics.slowConsumer()
      this.close(
        new WeftError(
          'SLOW_CONSUMER',
          `over ${this.#limits.maxBufferedBytes} bytes waiting to be sent`,
        ),
      )
      return
    }
    if (!this.#corked) {
      this.#corked = true
      this.#transport.cork()
      process.nextTick(this.#uncork)
    }
    this.#metrics.frameOut(frame.byteLength)
    this.#socket.send(frame)
  }

  #uncork = (): void => {
    this.#corked = false
    this.#transport.uncork()
  }

  /** Closes the socket with the error's close code and a short reason. */
  close(error: WeftError): void {
    if (this.#closed) return
    if (this.#throttle !== null) {
      // The closing handshake needs the peer's close frame: read again.
      clearTimeout(this.#throttle)
      this.#throttle = null
      this.#deferred = []
      this.#transport.resume()
    }
    const farewell = this.#handler?.farewell?.(error)
    if (farewell !== undefined) this.#socket.send(farewell)
    this.#closed = true
    this.#metrics.refused(error.code, 'socket')
    this.#logger.info('closing socket', { code: error.code, reason: error.message })
    this.#socket.close(error.closeCode, truncateReason(error.message))
  }

  /** Heartbeat: returns false (and terminates the socket) when the last ping went unanswered. */
  heartbeat(): boolean {
    if (!this.#alive) {
      this.#logger.info('heartbeat missed; terminating socket')
      this.#closed = true
      this.#socket.terminate()
      return false
    }
    this.#alive = false
    this.#socket.ping()
    return true
  }

  #receive(data: Buffer, isBinary: boolean): void {
    if (this.#closed) return
    this.#metrics.frameIn(data.byteLength)
    if (!isBinary) {
      this.close(
        new WeftError('UNSUPPORTED_DATA', 'text frames are not accepted; send binary frames'),
      )
      return
    }
    if (this.#throttle !== null) {
      // Over the rate: keep it for later (the socket is paused, so little more can arrive).
      this.#deferred.push(new Uint8Array(data))
      return
    }
    // A view, not a copy: decoders bound every read and copy the byte fields they keep.
    this.#handle(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
  }

  #handle(frame: Uint8Array): void {
    let bytes = frame.byteLength
    this.guard(() => {
      const inflated = this.#handler?.onFrame(frame)
      if (typeof inflated === 'number' && inflated > bytes) bytes = inflated
    })
    this.#meter(bytes)
  }

  /**
   * Charges a handled message to the rate limits. Over them, the socket stops reading and later
   * frames wait until the debt is paid: a fast sender slows down (TCP backpressure) and loses
   * nothing.
   */
  #meter(bytes: number): void {
    const now = Date.now()
    this.#messages?.take(1, now)
    this.#bytes.take(bytes + MESSAGE_COST_BYTES, now)
    if (this.#closed) return
    const wait = Math.max(this.#messages?.waitMs(now) ?? 0, this.#bytes.waitMs(now))
    if (wait === 0) return
    this.#metrics.socketThrottled()
    this.#transport.pause()
    this.#throttle = setTimeout(this.#unthrottle, wait)
  }

  #unthrottle = (): void => {
    this.#throttle = null
    if (this.#closed) return
    while (this.#deferred.length > 0 && this.#throttle === null && !this.#closed) {
      this.#handle(this.#deferred.shift() as Uint8Array)
    }
    if (this.#throttle === null && !this.#closed) this.#transport.resume()
  }

  /**
   * Runs `work` for this socket: a {@link WeftError} it throws closes the socket with that
   * error's code, anything else with `INTERNAL`. Nothing escapes to the process.
   */
  guard(work: () => void): void {
    try {
      work()
    } catch (error) {
      if (error instanceof WeftError) {
        this.close(error)
      } else {
        this.#logger.error('unexpected error handling a frame', { error: String(error) })
        this.close(new WeftError('INTERNAL', 'unexpected relay error', { cause: error }))
      }
    }
  }
}

const encoder = new TextEncoder()

/** WebSocket close reasons are limited to 123 bytes. */
const truncateReason = (reason: string): string => {
  let text = reason
  while (encoder.encode(text).length > 123) text = text.slice(0, -1)
  return text
}
