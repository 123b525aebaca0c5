/** Connection: one Weft socket — hello/welcome, heartbeats, and reconnection driven by the error table. */
import {
  encodeMessage,
  ERROR_CODES,
  errorCodeForClose,
  isErrorCode,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  WEFT_SUBPROTOCOL,
  WeftError,
  type ErrorCode,
  type RetryPolicy,
  type WeftMessage,
} from '@weft/protocol'
import { backoffDelayMs } from './backoff.js'
import { ClientWire } from './client-wire.js'
import type { ResolvedClientOptions, WebSocketLike } from './client-options.js'
import { BACKGROUND_REASON, type AppLifecycle } from './lifecycle.js'
import type { NetworkHint } from './network-hints.js'
import type { SyncStatus } from './status.js'
import { TokenRefresher } from './token-refresh.js'

/** What the connection tells its owner. */
export interface ConnectionHandlers {
  /** `welcome` arrived: documents can be opened. */
  onReady(): void
  /** A message after `welcome` (pings and connection errors are handled here). */
  onMessage(message: WeftMessage): void
  /** The socket that was ready went away; per-connection state must be reset. */
  onDown(): void
  /** The connection's own status changed (offline, connecting, authenticating, syncing, error). */
  onStatus(status: SyncStatus): void
  /** A reconnect was scheduled: attempt number, wait, and why the last socket ended. */
  onRetry(attempt: number, delayMs: number, reason: string): void
  /** Edits another tab made while neither reaches the relay (tab groups only). */
  onPeerEdits?(doc: string, updates: readonly Uint8Array[]): void
  /** A frame of `bytes` was written to the socket (`sent`) or read from it (`received`). */
  onBytes?(direction: 'sent' | 'received', bytes: number): void
}

/**
 * Keeps one socket to the relay while wanted. Every close is classified by the error table
 * (from the relay's `error` message, else from the close code): `retry` reconnects with
 * exponential backoff and full jitter, `slow-retry` waits longer, `refresh-token` reconnects
 * only when the token is a function (asked again on every connect), `stop` ends in `error`.
 */
export class Connection {
  readonly #options: ResolvedClientOptions
  readonly #handlers: ConnectionHandlers
  #socket: WebSocketLike | null = null
  #ready = false
  #wanted = false
  #attempt = 0
  #readyAtMs: number | null = null
  #serverError: { code: ErrorCode; reason: string } | null = null
  #retryTimer: ReturnType<typeof setTimeout> | null = null
  #heartbeatTimer: ReturnType<typeof setInterval> | null = null
  #deadlineTimer: ReturnType<typeof setTimeout> | null = null
  #lastHeardMs = 0
  #maxMessageBytes = Number.MAX_SAFE_INTEGER
  /** Compression and chunked transfers, across sockets (unfinished transfers resume). */
  readonly #wire: ClientWire
  #deviceOffline = false
  /** The app is in the background (see {@link setLifecycle}). */
  #background = false
  #keepAliveTimer: ReturnType<typeof setTimeout> | null = null
  #unsubscribeHints: (() => void) | null = null
  #nonce = 0
  /** The token of the current socket's session (its `hello`, or the last refresh sent). */
  #token = ''
  readonly #refresher: TokenRefresher | null

  constructor(options: ResolvedClientOptions, handlers: ConnectionHandlers) {
    this.#options = options
    this.#handlers = handlers
    this.#wire = new ClientWire(options.compressFromBytes)
    const { token, tokenRefreshMarginMs, backoff, random } = options
    this.#refresher =
      typeof token === 'function' && tokenRefreshMarginMs !== null
        ? new TokenRefresher({
            refresh: () => this.#sendFreshToken(),
            marginMs: tokenRefreshMarginMs ?? null,
            backoff,
            random,
          })
        : null
  }

  /**
   * The largest message the relay takes: its frame limit from `welcome`, or no limit from
   * protocol version 3, where larger messages travel in chunks (the relay's document-size limit
   * then refuses an edit with `DOC_TOO_LARGE`).
   */
  get maxMessageBytes(): number {
    return this.#wire.chunked ? Number.MAX_SAFE_INTEGER : this.#maxMessageBytes
  }

  /** Edits may travel with their trace contexts: the relay speaks protocol version 4. */
  get carriesTraces(): boolean {
    return this.#wire.traced
  }

  /** True between `welcome` and the socket going away. */
  get ready(): boolean {
    return this.#ready
  }

  /** Starts connecting (and reconnecting) until {@link disconnect}. */
  connect(): void {
    if (this.#wanted) return
    this.#wanted = true
    this.#attempt = 0
    this.#unsubscribeHints ??=
      this.#options.networkHints?.subscribe((hint) => this.#hint(hint)) ?? null
    void this.#open('connecting')
  }

  /** Closes the socket and stops reconnecting. */
  disconnect(reason = 'disconnected by the app'): void {
    this.#wanted = false
    this.#unsubscribeHints?.()
    this.#unsubscribeHints = null
    this.#clearRetry()
    this.#clearKeepAlive()
    const socket = this.#socket
    if (socket !== null) this.#drop(socket, 1000, reason)
    this.#handlers.onStatus({ state: 'offline', reason })
  }

  /**
   * The app went to the background or came back. In the background the client sends no
   * heartbeats, closes the socket after `backgroundKeepAliveMs` and does not reconnect; edits
   * stay in the outbox. In the foreground it reconnects at once (or checks a live socket with a
   * ping) and heartbeats resume.
   */
  setLifecycle(state: AppLifecycle): void {
    if (state === 'background') return this.#toBackground()
    if (!this.#background) return
    this.#background = false
    this.#clearKeepAlive()
    if (!this.#wanted) return
    const socket = this.#socket
    if (socket === null) {
      if (this.#deviceOffline) return
      this.#clearRetry()
      this.#attempt = 0
      void this.#open('the app came to the foreground')
    } else if (this.#ready) {
      this.#startHeartbeat()
      this.#ping(socket)
    }
  }

  #toBackground(): void {
    if (this.#background) return
    this.#background = true
    this.#stopHeartbeat()
    this.#clearRetry()
    if (!this.#wanted) return
    if (this.#socket === null) {
      this.#handlers.onStatus({ state: 'offline', reason: BACKGROUND_REASON })
      return
    }
    this.#startKeepAlive()
  }

  /** Closes the socket once the app has been in the background for `backgroundKeepAliveMs`. */
  #startKeepAlive(): void {
    this.#clearKeepAlive()
    this.#keepAliveTimer = setTimeout(() => {
      this.#keepAliveTimer = null
      if (this.#socket !== null) this.#drop(this.#socket, 1000, BACKGROUND_REASON)
    }, this.#options.backgroundKeepAliveMs)
  }

  #clearKeepAlive(): void {
    if (this.#keepAliveTimer !== null) clearTimeout(this.#keepAliveTimer)
    this.#keepAliveTimer = null
  }

  /**
   * Sends a message if the connection is ready (compressed when it is large and the relay speaks
   * protocol version 2, in resumable chunks over 250,000 bytes from version 3); returns whether
   * it was sent.
   */
  send(message: WeftMessage): boolean {
    if (!this.#ready || this.#socket === null) return false
    this.#wire.send(message)
    return true
  }

  /**
   * Platform hints: `offline` drops the socket and waits; `online` and `visible` cut a backoff
   * wait short (and `visible` checks a live connection with a ping at once).
   */
  #hint(hint: NetworkHint): void {
    if (!this.#wanted) return
    if (hint === 'offline') {
      this.#deviceOffline = true
      this.#clearRetry()
      if (this.#socket !== null) this.#drop(this.#socket, 1000, 'the device went offline')
      this.#handlers.onStatus({ state: 'offline', reason: 'the device is offline' })
      return
    }
    const wasOffline = this.#deviceOffline
    this.#deviceOffline = false
    // In the background the app decides when to come back (setLifecycle).
    if (this.#background) return
    if (this.#socket === null && (wasOffline || this.#retryTimer !== null)) {
      this.#clearRetry()
      this.#attempt = 0
      void this.#open(`the device is ${hint}`)
    } else if (hint === 'visible' && this.#ready && this.#socket !== null) {
      this.#ping(this.#socket)
    }
  }

  /** Sends a fresh token from the token function on the open socket; see `WeftClient.refreshToken`. */
  async refreshToken(): Promise<void> {
    const source = this.#options.token
    if (typeof source !== 'function') {
      throw new WeftError(
        'INVALID_ARGUMENT',
        'refreshToken() needs options.token to be a function returning a fresh token',
      )
    }
    const token = await this.#sendFreshToken()
    if (this.#ready && token === this.#token) this.#refresher?.follow(token)
  }

  /** Asks the token function for a token and sends it when ready; resolves with the token. */
  async #sendFreshToken(): Promise<string> {
    const source = this.#options.token as () => string | Promise<string>
    const token = await source()
    if (typeof token !== 'string') {
      throw new WeftError('INVALID_ARGUMENT', 'options.token() must return a string')
    }
    if (this.#ready && this.send({ type: 'refresh-token', token })) this.#token = token
    return token
  }

  async #open(reason: string): Promise<void> {
    this.#retryTimer = null
    this.#handlers.onStatus({ state: 'connecting', attempt: this.#attempt, reason })
    let token = ''
    try {
      const source = this.#options.token
      token = typeof source === 'function' ? await source() : (source ?? '')
    } catch (error) {
      this.#scheduleRetry('retry', `token source failed: ${String(error)}`)
      return
    }
    if (!this.#wanted || this.#socket !== null) return
    this.#token = token
    let socket: WebSocketLike
    try {
      socket = new this.#options.WebSocket(this.#options.url, [WEFT_SUBPROTOCOL])
    } catch (error) {
      this.#stop(
        'INVALID_ARGUMENT',
        `cannot open a WebSocket to ${this.#options.url}: ${String(error)}`,
      )
      return
    }
    this.#socket = socket
    this.#serverError = null
    socket.binaryType = 'arraybuffer'
    // Opening the socket and the hello/welcome exchange share one deadline: a relay that
    // accepts connections but never answers is a dead relay too.
    const { connectTimeoutMs } = this.#options
    this.#deadlineTimer = setTimeout(() => {
      this.#deadlineTimer = null
      if (this.#socket === socket && !this.#ready) {
        this.#drop(
          socket,
          ERROR_CODES.TIMEOUT.closeCode,
          `not connected within ${connectTimeoutMs} ms`,
        )
      }
    }, connectTimeoutMs)
    socket.onopen = () => {
      this.#handlers.onStatus({ state: 'authenticating' })
      this.#write(
        socket,
        encodeMessage({
          type: 'hello',
          minVersion: MIN_PROTOCOL_VERSION,
          maxVersion: PROTOCOL_VERSION,
          token,
          correlationId: this.#options.correlationId,
          client: this.#options.clientName,
        }),
      )
    }
    socket.onmessage = (event: { data: unknown }) => this.#receive(socket, event.data)
    socket.onclose = (event: { code: number; reason: string }) =>
      this.#closed(socket, event.code, event.reason)
    socket.onerror = () => {
      // A close event always follows; it carries the code.
    }
  }

  #receive(socket: WebSocketLike, data: unknown): void {
    if (socket !== this.#socket) return
    this.#lastHeardMs = Date.now()
    if (data instanceof ArrayBuffer) this.#handlers.onBytes?.('received', data.byteLength)
    else {
      this.#drop(socket, ERROR_CODES.UNSUPPORTED_DATA.closeCode, 'the relay sent a text frame')
      return
    }
    let message: WeftMessage | null
    try {
      message = this.#wire.receive(new Uint8Array(data))
    } catch (error) {
      const code = error instanceof WeftError ? error.code : 'BAD_MESSAGE'
      this.#drop(
        socket,
        ERROR_CODES[code].closeCode,
        `undecodable frame from the relay: ${String(error)}`,
      )
      return
    }
    if (!this.#ready && message !== null) {
      if (message.type === 'welcome')
        return this.#welcome(socket, message.maxMessageBytes, message.version)
      if (message.type === 'error' && message.doc === '')
        this.#rememberError(message.code, message.reason)
      return
    }
    // Heard from: alive, so a ping waiting for its answer has it.
    if (this.#deadlineTimer !== null) clearTimeout(this.#deadlineTimer)
    this.#deadlineTimer = null
    // A chunk of a transfer, or the relay's answer about one of ours.
    if (message === null) return
    switch (message.type) {
      case 'ping':
        this.#write(socket, encodeMessage({ type: 'pong', nonce: message.nonce }))
        return
      case 'pong':
        return
      case 'error':
        if (message.doc === '') return this.#rememberError(message.code, message.reason)
        return this.#handlers.onMessage(message)
      default:
        this.#handlers.onMessage(message)
    }
  }

  #welcome(socket: WebSocketLike, maxMessageBytes: number, version: number): void {
    if (this.#deadlineTimer !== null) clearTimeout(this.#deadlineTimer)
    this.#deadlineTimer = null
    this.#maxMessageBytes = maxMessageBytes
    // Transfers the relay was sending when the last socket went away resume first.
    const send = (bytes: Uint8Array): void => this.#write(socket, bytes)
    for (const frame of this.#wire.ready(send, version, maxMessageBytes)) send(frame)
    this.#ready = true
    this.#readyAtMs = Date.now()
    this.#handlers.onStatus({ state: 'syncing' })
    // Connected while in the background (it was connecting): kept for a while, like any socket.
    if (this.#background) this.#startKeepAlive()
    else this.#startHeartbeat()
    this.#refresher?.follow(this.#token)
    this.#handlers.onReady()
  }

  #rememberError(code: string, reason: string): void {
    this.#serverError = { code: isErrorCode(code) ? code : 'INTERNAL', reason }
  }

  #startHeartbeat(): void {
    this.#stopHeartbeat()
    this.#heartbeatTimer = setInterval(() => {
      if (this.#socket !== null) this.#ping(this.#socket)
    }, this.#options.heartbeatIntervalMs)
  }

  /** Stops pings, and the wait for a ping's answer (not the connect deadline). */
  #stopHeartbeat(): void {
    if (this.#heartbeatTimer !== null) clearInterval(this.#heartbeatTimer)
    this.#heartbeatTimer = null
    if (this.#ready && this.#deadlineTimer !== null) clearTimeout(this.#deadlineTimer)
    if (this.#ready) this.#deadlineTimer = null
  }

  /** Sends a ping; a socket that stays silent for `heartbeatTimeoutMs` after it is dropped. */
  #ping(socket: WebSocketLike): void {
    if (this.#deadlineTimer !== null) return
    const { heartbeatTimeoutMs } = this.#options
    const sentAtMs = Date.now()
    this.#write(socket, encodeMessage({ type: 'ping', nonce: ++this.#nonce }))
    this.#deadlineTimer = setTimeout(() => {
      this.#deadlineTimer = null
      if (this.#socket === socket && this.#lastHeardMs < sentAtMs) {
        this.#drop(
          socket,
          ERROR_CODES.TIMEOUT.closeCode,
          `no answer to a ping within ${heartbeatTimeoutMs} ms`,
        )
      }
    }, heartbeatTimeoutMs)
  }

  /** Writes a frame to `socket`, counted as sent (every frame goes through here). */
  #write(socket: WebSocketLike, frame: Uint8Array): void {
    socket.send(frame)
    this.#handlers.onBytes?.('sent', frame.byteLength)
  }

  /** Tears a socket down at once (a dead network never completes a close handshake). */
  #drop(socket: WebSocketLike, code: number, reason: string): void {
    socket.onopen = socket.onmessage = socket.onclose = null
    // Closing a socket that is still connecting makes Node's `ws` emit an error: ignore it (an
    // error event without a listener would crash the process).
    socket.onerror = () => {}
    try {
      socket.close(
        code === 1000 || (code >= 3000 && code <= 4999) ? code : 4000,
        reason.slice(0, 120),
      )
    } catch {
      // Already closing.
    }
    this.#closed(socket, code, reason)
  }

  #closed(socket: WebSocketLike, closeCode: number, closeReason: string): void {
    if (socket !== this.#socket) return
    this.#socket = null
    this.#refresher?.stop()
    if (this.#heartbeatTimer !== null) clearInterval(this.#heartbeatTimer)
    if (this.#deadlineTimer !== null) clearTimeout(this.#deadlineTimer)
    this.#heartbeatTimer = this.#deadlineTimer = null
    const wasReady = this.#ready
    this.#ready = false
    if (wasReady) {
      this.#wire.down()
      this.#handlers.onDown()
    }
    if (
      this.#readyAtMs !== null &&
      Date.now() - this.#readyAtMs >= this.#options.backoff.stableMs
    ) {
      this.#attempt = 0
    }
    this.#readyAtMs = null
    this.#clearKeepAlive()
    if (!this.#wanted || this.#deviceOffline) return
    const code = this.#serverError?.code ?? errorCodeForClose(closeCode)
    const reason = this.#serverError?.reason ?? (closeReason || `socket closed (${closeCode})`)
    const policy: RetryPolicy = code === undefined ? 'retry' : ERROR_CODES[code].retry
    if (policy === 'stop' && code !== undefined) return this.#stop(code, reason)
    if (policy === 'refresh-token' && typeof this.#options.token !== 'function') {
      return this.#stop(
        code ?? 'UNAUTHORIZED',
        `${reason}; give the client a token function to refresh it`,
      )
    }
    // In the background the app decides when to come back (setLifecycle).
    if (this.#background) {
      this.#handlers.onStatus({ state: 'offline', reason: BACKGROUND_REASON })
      return
    }
    this.#scheduleRetry(policy, reason)
  }

  #scheduleRetry(policy: RetryPolicy, reason: string): void {
    const delay = backoffDelayMs(
      this.#options.backoff,
      this.#attempt,
      this.#options.random,
      policy === 'slow-retry',
    )
    this.#attempt += 1
    this.#handlers.onStatus({ state: 'connecting', attempt: this.#attempt, reason })
    this.#handlers.onRetry(this.#attempt, delay, reason)
    this.#retryTimer = setTimeout(() => void this.#open(reason), delay)
  }

  #stop(code: ErrorCode, reason: string): void {
    this.#wanted = false
    this.#clearRetry()
    this.#handlers.onStatus({ state: 'error', code, reason })
  }

  #clearRetry(): void {
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer)
    this.#retryTimer = null
  }
}
