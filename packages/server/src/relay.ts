/** Relay: accepts WebSocket upgrades, picks the dialect, and owns the rooms and sockets. */
import { TrustedProxies } from './client-address.js'
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { AnySchema } from '@weft/doc'
import { checkDocName, WEFT_SUBPROTOCOL, WeftError } from '@weft/protocol'
import { WebSocketServer, type WebSocket } from 'ws'
import { ROOT_CONTEXT } from '@opentelemetry/api'
import { RelayAdmin } from './admin.js'
import { matchesPattern, type Identity } from './auth.js'
import { ChangeFeed } from './change-feed.js'
import { RelayDocuments } from './relay-documents.js'
import type { RelayDrift } from './relay-drift.js'
import { bindLogger } from './logger.js'
import { traceContextOf } from './tracing.js'
import {
  resolveRelayOptions,
  type DocSchema,
  type RelayOptions,
  type ResolvedRelayOptions,
} from './relay-options.js'
import { BusRouter } from './bus-router.js'
import { RevocationGuard } from './revocation-guard.js'
import type { RelayRevocations } from './revocations.js'
import { RoomRegistry } from './room-registry.js'
import { SocketLink } from './socket-link.js'
import type { AuthenticatedSession } from './session-auth.js'
import { RelayTransfers } from './relay-transfers.js'
import { WeftSession, type SessionContext } from './weft-session.js'
import { YwsSession } from './yws-session.js'

/** How often (ms) a relay on a bus reads the shared feed's head while feed reads wait. */
const FEED_POLL_MS = 200
/**
 * How often (ms) a relay on a bus reads the shared store's revocations again: the bound on how
 * long another relay's revocation can go unenforced here when its bus message was lost.
 */
const REVOCATION_RELOAD_MS = 5_000

/**
 * The Weft relay. Attach it to an HTTP server's `upgrade` event; sockets offering the `weft`
 * subprotocol speak the Weft dialect, all others the y-websocket dialect at `/<docName>`.
 *
 * ```ts
 * const relay = new Relay({ store, auth: jwtAuth({ secret: process.env.WEFT_JWT_SECRET }) })
 * httpServer.on('upgrade', (request, socket, head) => relay.handleUpgrade(request, socket, head))
 * ```
 */
export class Relay {
  readonly #options: ResolvedRelayOptions
  readonly #server: WebSocketServer
  readonly #registry: RoomRegistry
  readonly #context: SessionContext
  readonly #links = new Set<SocketLink>()
  readonly #sessions = new Set<AuthenticatedSession>()
  /** Open (or opening) sockets per remote address. */
  readonly #perAddress = new Map<string, number>()
  readonly #proxies: TrustedProxies
  readonly #heartbeat: ReturnType<typeof setInterval> | null
  readonly #feed: ChangeFeed
  readonly #documents: RelayDocuments
  readonly #router: BusRouter | null
  readonly #revocations: RevocationGuard
  #closing: Promise<void> | null = null
  #admin: RelayAdmin | null = null

  constructor(options: RelayOptions) {
    this.#options = resolveRelayOptions(options)
    this.#proxies = new TrustedProxies(this.#options.trustedProxies)
    const { logger, maxMessageBytes } = this.#options
    this.#server = new WebSocketServer({
      noServer: true,
      maxPayload: maxMessageBytes,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(WEFT_SUBPROTOCOL) ? WEFT_SUBPROTOCOL : false),
    })
    const { bus } = this.#options
    // Other relays' changes reach the shared store without passing here: read its head.
    this.#feed = new ChangeFeed(
      this.#options.store,
      logger,
      60_000,
      bus === null ? 0 : FEED_POLL_MS,
    )
    this.#router =
      bus === null
        ? null
        : new BusRouter({
            bus,
            logger,
            metrics: this.#options.metrics,
            events: {
              revoke: (message) => {
                if (!this.#revocations.learn(message))
                  this.#revokeHere(message.subject, message.reason)
              },
              deleted: (name) => this.#deletedElsewhere(name),
            },
          })
    this.#registry = new RoomRegistry({
      ...this.#options,
      router: this.#router,
      schemaFor: (name) => this.schemaFor(name),
      rulesFor: (name) => this.#schemaEntry(name)?.rules ?? null,
      onChanges: () => this.#feed.changed(),
    })
    this.#documents = new RelayDocuments({
      registry: this.#registry,
      schemaFor: (name) => this.schemaFor(name),
      assertOpen: () => {
        if (this.#closing !== null)
          throw new WeftError('SHUTTING_DOWN', 'the relay is shutting down')
      },
    })
    const router = this.#router
    this.#revocations = new RevocationGuard({
      store: this.#options.store,
      logger,
      auth: this.#options.auth,
      sessions: this.#sessions,
      announce:
        router === null ? null : (message) => router.publish({ ...message, origin: router.id }),
      reloadMs: bus === null ? 0 : REVOCATION_RELOAD_MS,
    })
    this.#context = {
      ...this.#options,
      auth: this.#revocations.auth,
      registry: this.#registry,
      logger,
      sessions: this.#sessions,
      traceContext: ROOT_CONTEXT,
      transfers: new RelayTransfers(this.#options.maxDocBytes),
    }
    if (this.#options.auth.mode === 'open') {
      logger.warn('authentication is off (open mode): anyone may read and write every document', {
        auth: 'open',
      })
    }
    const interval = this.#options.heartbeatIntervalMs
    this.#heartbeat = interval > 0 ? setInterval(() => this.#beat(), interval) : null
    this.#heartbeat?.unref()
  }

  /** Open sockets. */
  get connectionCount(): number {
    return this.#links.size
  }

  /** Documents loaded or loading. */
  get roomCount(): number {
    return this.#registry.size
  }

  /**
   * How far the loaded documents run ahead of the store: updates applied but not durable yet
   * (and the oldest one's receipt), and log entries not yet compacted. Read from memory, one
   * pass over the loaded rooms; no store access, so a metrics scrape may call it.
   */
  drift(): RelayDrift {
    return this.#registry.drift()
  }

  /**
   * Browser origins allowed to connect (`allowedOrigins`), or null for any. The HTTP API of
   * `createHttpApi` answers the same origins by default.
   */
  get allowedOrigins(): readonly string[] | null {
    return this.#options.allowedOrigins
  }

  /**
   * The client address of a request: the socket's, or the one a trusted proxy forwarded
   * (`trustedProxies`). Per-address limits count it; the HTTP API uses it too.
   */
  clientAddress(request: IncomingMessage): string {
    return this.#proxies.clientOf(request)
  }

  /** Completes a WebSocket upgrade; after `close()` began, the request is refused with 503. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#closing !== null) return refuseUpgrade(socket, 503, 'the relay is shutting down')
    const address = this.#proxies.clientOf(request)
    const refusal = this.#admission(request, address)
    if (refusal !== null) {
      this.#options.metrics.upgradeRefused(refusal.status)
      this.#options.logger.info('upgrade refused', {
        status: refusal.status,
        reason: refusal.reason,
      })
      return refuseUpgrade(socket, refusal.status, refusal.reason)
    }
    this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1)
    let counted = true
    const uncount = (): void => {
      if (!counted) return
      counted = false
      const left = (this.#perAddress.get(address) ?? 1) - 1
      if (left > 0) this.#perAddress.set(address, left)
      else this.#perAddress.delete(address)
    }
    socket.once('close', uncount)
    this.#server.handleUpgrade(request, socket, head, (ws) => this.#accept(ws, request, socket))
  }

  /**
   * Revokes every session of `subject` (a token's `sub`) at once: each is closed with
   * `UNAUTHORIZED` (4401). With a bus, every other relay closes its sessions of `subject` too
   * (unless the bus is down: then only this relay's close, and the token's expiry is what ends
   * the others). Returns how many this relay closed. Tokens still valid can connect again: to
   * refuse them too, use {@link revocations} instead.
   */
  revoke(subject: string, reason = 'the session was revoked'): number {
    if (typeof subject !== 'string') {
      throw new WeftError('INVALID_ARGUMENT', 'revoke(subject) needs the subject as a string')
    }
    const router = this.#router
    router?.publish({ kind: 'revoke', doc: '', origin: router.id, subject, reason })
    return this.#revokeHere(subject, reason)
  }

  /** This relay's revocations: see {@link RelayRevocations}. */
  get revocations(): RelayRevocations {
    return this.#revocations
  }

  /** Closes this relay's sessions of `subject`; returns how many. */
  #revokeHere(subject: string, reason: string): number {
    let closed = 0
    for (const session of [...this.#sessions]) {
      if (session.subject !== subject) continue
      session.revoke(new WeftError('UNAUTHORIZED', reason))
      closed += 1
    }
    return closed
  }

  /**
   * Another relay deleted `name`: this relay's sessions of it get `DOC_DELETED` and its room
   * unloads without writing, as on the relay that deleted it (the store is not touched again).
   */
  #deletedElsewhere(name: string): void {
    const error = new WeftError('DOC_DELETED', `document "${name}" was deleted by an operator`)
    const { logger } = this.#options
    this.#registry
      .remove(name, error, () => Promise.resolve())
      .then(
        () => logger.info('document deleted on another relay', { doc: name }),
        (cause: unknown) =>
          logger.warn('closing a document deleted elsewhere failed', {
            doc: name,
            error: String(cause),
          }),
      )
  }

  /**
   * Operator operations on documents: list, inspect, export, import, delete, compact. With a bus,
   * a deletion reaches the other relays' sessions of the document too.
   */
  get admin(): RelayAdmin {
    const router = this.#router
    return (this.#admin ??= new RelayAdmin(
      this.#registry,
      this.#options.store,
      this.#options.logger,
      {
        changed: () => this.#feed.changed(),
        deleted: (name) => router?.publish({ kind: 'deleted', doc: name, origin: router.id }),
      },
    ))
  }

  /** The change feed: every accepted change, in durable order (when the store keeps one). */
  get feed(): ChangeFeed {
    return this.#feed
  }

  /** The schema of document `name` (the first `schemas` entry whose pattern matches), or null. */
  schemaFor(name: string): AnySchema | null {
    return this.#schemaEntry(name)?.schema ?? null
  }

  #schemaEntry(name: string): DocSchema | undefined {
    return this.#options.schemas.find((entry) => matchesPattern(entry.pattern, name))
  }

  /** Verifies a token with the relay's authenticator (for the HTTP API): its identity and scopes. */
  authenticate(token: string): Promise<Identity> {
    return this.#revocations.auth.authenticate(token)
  }

  /**
   * Documents for code running with the relay, without a socket: `open` one for a service (its
   * changes are validated, fanned out to connected clients, durable before they resolve, and
   * attributed to `service:<name>`), read one as JSON or as a Yjs update, or apply an update.
   */
  get documents(): RelayDocuments {
    return this.#documents
  }

  /**
   * Resolves once every update received so far (on every loaded document) is integrated and
   * durable, or its document has failed. Updates arriving meanwhile may or may not be included.
   */
  whenDurable(): Promise<void> {
    return this.#registry.whenDurable()
  }

  /**
   * Stops the relay: refuses new sockets, closes open ones with `SHUTTING_DOWN` (1001), waits
   * until every applied update is durable, and unloads the rooms. The store stays open; its
   * owner closes it afterwards.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#heartbeat !== null) clearInterval(this.#heartbeat)
      this.#revocations.close()
      const shuttingDown = new WeftError('SHUTTING_DOWN', 'the relay is shutting down')
      for (const link of this.#links) link.close(shuttingDown)
      await this.#registry.close()
      this.#router?.close()
      this.#feed.close()
      await new Promise<void>((resolve) => this.#server.close(() => resolve()))
    })()
    return this.#closing
  }

  /** Why an upgrade request is refused before the handshake (status and reason), or `null`. */
  #admission(request: IncomingMessage, address: string): { status: number; reason: string } | null {
    const { maxHeaderBytes, allowedOrigins, maxConnectionsPerAddress } = this.#options
    let headerBytes = 0
    for (const part of request.rawHeaders) headerBytes += Buffer.byteLength(part) + 2
    if (headerBytes > maxHeaderBytes) {
      return { status: 431, reason: `request headers over ${maxHeaderBytes} bytes` }
    }
    const origin = request.headers.origin
    if (allowedOrigins !== null && origin !== undefined && !allowedOrigins.includes(origin)) {
      return { status: 403, reason: 'origin not allowed' }
    }
    if ((this.#perAddress.get(address) ?? 0) >= maxConnectionsPerAddress) {
      return {
        status: 429,
        reason: `over ${maxConnectionsPerAddress} connections from one address`,
      }
    }
    return null
  }

  #accept(ws: WebSocket, request: IncomingMessage, transport: Duplex): void {
    const id = randomUUID()
    const logger = bindLogger(this.#options.logger, { connection: id })
    const link = new SocketLink(id, ws, transport, this.#options, logger, this.#options.metrics)
    this.#options.metrics.socketOpened(ws.protocol === WEFT_SUBPROTOCOL ? 'weft' : 'y-websocket')
    this.#links.add(link)
    ws.once('close', () => this.#links.delete(link))
    const traceContext = traceContextOf(request)
    if (ws.protocol === WEFT_SUBPROTOCOL) {
      logger.debug('socket opened', { dialect: 'weft' })
      new WeftSession(link, { ...this.#context, logger, traceContext })
      return
    }
    const url = request.url ?? '/'
    const name = docNameFromUrl(url)
    if (name instanceof WeftError) {
      link.close(name)
      return
    }
    logger.debug('socket opened', { dialect: 'y-websocket', doc: name })
    new YwsSession(link, name, tokenFromUrl(url), {
      ...this.#context,
      logger: bindLogger(logger, { doc: name }),
      traceContext,
    })
  }

  #beat(): void {
    for (const link of this.#links) link.heartbeat()
  }
}

const STATUS_TEXT: Record<number, string> = {
  403: 'Forbidden',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  503: 'Service Unavailable',
}

/** Ends an upgrade request with a plain HTTP error: the WebSocket handshake never happens. */
const refuseUpgrade = (socket: Duplex, status: number, reason: string): void => {
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\n` +
      `Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
  )
}

/** The `token` query parameter of a y-websocket URL (`/<docName>?token=…`), or `''`. */
const tokenFromUrl = (url: string): string => {
  const query = url.indexOf('?')
  if (query < 0) return ''
  return new URLSearchParams(url.slice(query + 1)).get('token') ?? ''
}

/** The document name of a y-websocket URL `/<docName>[?query]`, percent-decoded. */
const docNameFromUrl = (url: string): string | WeftError => {
  const path = url.slice(1).split('?')[0] ?? ''
  let name: string
  try {
    name = decodeURIComponent(path)
  } catch {
    return new WeftError(
      'BAD_DOC_NAME',
      'the document name in the URL is not valid percent-encoding',
    )
  }
  return checkDocName(name) ?? name
}
