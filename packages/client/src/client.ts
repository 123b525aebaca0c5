/** WeftClient: one socket for many documents, with the connection's status as events. */
import { checkDocName, WeftError, type WeftMessage } from '@weft/protocol'
import { ObservableV2 } from 'lib0/observable'
import { backoffDelayMs } from './backoff.js'
import {
  resolveClientOptions,
  type ClientOptions,
  type ResolvedClientOptions,
} from './client-options.js'
import { ClientMetrics, type ClientMetricsSnapshot, type ConnectedEvent } from './client-metrics.js'
import { Connection, type ConnectionHandlers } from './connection.js'
import { DocHandle, type HandleOwner, type OpenOptions } from './doc-handle.js'
import type { AppLifecycle } from './lifecycle.js'
import type { LocalStore } from './local-store.js'
import { MemoryLocalStore } from './memory-local-store.js'
import type { SyncStatus } from './status.js'
import { TabHub, type HubConnectionState } from './tab-hub.js'
import { runForLeader, type Candidacy } from './tab-leader.js'
import { TabLink } from './tab-link.js'
import { metricsOfHandle } from './track-conflicts.js'

/** Events of a {@link WeftClient}. */
export interface ClientEvents {
  /** The connection's status changed; `synced` once every open document is. */
  status: (status: SyncStatus) => void
  /** A reconnect is scheduled in `delayMs` (attempt 1, 2…), after the socket ended for `reason`. */
  retry: (event: { attempt: number; delayMs: number; reason: string }) => void
  /**
   * A connection was established (`welcome` arrived, or the tab group's connection is ready):
   * `reconnect` when an earlier one was, `offlineMs` since that one went away (`null` the first
   * time), and the `retry` attempt that made it (0 without a retry).
   */
  connected: (event: ConnectedEvent) => void
}

/** What a client's documents go through: its own socket, or the tab group's hub. */
type Transport = Pick<
  Connection,
  'ready' | 'maxMessageBytes' | 'connect' | 'disconnect' | 'send' | 'refreshToken'
> & {
  close?(reason: string): void
  setLifecycle?(state: AppLifecycle): void
  /** Edits may travel with their trace contexts (a socket of the client's own, version 4). */
  readonly carriesTraces?: boolean
}

/** What the hub tab learns of its own client's connection (Weft's own use: the tab hub). */
interface ClientInternals {
  readonly onConnection?: (state: HubConnectionState) => void
  /** The hub's socket is the leader tab's: its bytes count there. */
  readonly onBytes?: (direction: 'sent' | 'received', bytes: number) => void
}

/** Stores used by an open client: two clients writing one store would overwrite each other. */
const storesInUse = new WeakSet<LocalStore>()

/**
 * A Weft client: one socket to the relay for every open document, reconnecting with backoff.
 * Create it with {@link createClient}. In browsers the tabs of one origin share one socket
 * (see `ClientOptions.tabs`): one tab's client holds it, the others reach the relay through it.
 */
export class WeftClient extends ObservableV2<ClientEvents> {
  readonly #options: ResolvedClientOptions
  readonly #connection: Transport
  readonly #candidacy: Candidacy | null = null
  readonly #handles = new Map<string, DocHandle>()
  readonly #owner: HandleOwner
  readonly #metrics: ClientMetrics
  #connectionStatus: SyncStatus = { state: 'offline', reason: 'not connected yet' }
  #status: SyncStatus = this.#connectionStatus
  #closed = false
  #lifecycle: AppLifecycle = 'foreground'

  /** @param internal for the hub tab's own client only */
  constructor(options: ClientOptions, internal: ClientInternals = {}) {
    super()
    this.#options = resolveClientOptions(options)
    const { store, tabs } = this.#options
    if (storesInUse.has(store)) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        'options.store is used by another open client: two clients would overwrite each ' +
          "other's outbox. Close that client first, or give this one its own store.",
      )
    }
    const observe = internal.onConnection
    const connectionState = (): HubConnectionState => this.#connectionState()
    const metrics = new ClientMetrics({
      hook: this.#options.onMetric,
      clock: this.#options.clock,
      docNames: this.#options.metricDocNames,
      pending: { pending: () => this.#pending() },
    })
    this.#metrics = metrics
    const handlers: ConnectionHandlers = {
      onReady: () => {
        this.emit('connected', [metrics.connected()])
        for (const handle of this.#handles.values()) handle.connectionReady()
      },
      onMessage: (message) => this.#route(message),
      onDown: () => {
        metrics.down()
        observe?.(connectionState())
        for (const handle of this.#handles.values()) handle.connectionDown()
      },
      onStatus: (status) => {
        this.#connectionStatus = status
        observe?.(connectionState())
        for (const handle of this.#handles.values()) handle.connectionStatus(status)
        this.#updateStatus()
      },
      onRetry: (attempt, delayMs, reason) => {
        metrics.retried(attempt)
        this.emit('retry', [{ attempt, delayMs, reason }])
      },
      onPeerEdits: (doc, updates) => this.#handles.get(doc)?.applyPeer(updates),
      onBytes: (direction, bytes) => {
        if (direction === 'sent') metrics.sent(bytes)
        else metrics.received(bytes)
        internal.onBytes?.(direction, bytes)
      },
    }
    if (tabs === null) {
      this.#connection = new Connection(this.#options, handlers)
    } else {
      this.#connection = new TabLink(tabs.group, tabs.locks, tabs.Channel, handlers)
      this.#candidacy = runForLeader(tabs.locks, tabs.group, () => this.#lead(options))
    }
    storesInUse.add(store)
    const connection = this.#connection
    const { backoff, random } = this.#options
    this.#owner = {
      send: (message) => connection.send(message),
      get ready() {
        return connection.ready
      },
      get maxMessageBytes() {
        return connection.maxMessageBytes
      },
      get carriesTraces() {
        return connection.carriesTraces === true
      },
      retryDelayMs: (attempt) => backoffDelayMs(backoff, attempt, random),
      release: (handle) => {
        if (this.#handles.get(handle.name) === handle) this.#handles.delete(handle.name)
        metricsOfHandle.delete(handle)
        this.#updateStatus()
        metrics.pendingChanged()
      },
      handleStatusChanged: () => this.#updateStatus(),
      storedEdits: (name, updates) => {
        if (connection instanceof TabLink) connection.shareEdits(name, updates)
      },
    }
    if (this.#options.autoConnect) this.#connection.connect()
  }

  /** The connection's status: `synced` when connected and every open document is synced. */
  get status(): SyncStatus {
    return this.#status
  }

  /** The correlation id the relay logs for this client. */
  get correlationId(): string {
    return this.#options.correlationId
  }

  /**
   * Opens a document: its local copy is applied at once (see `whenLoaded()`), then it syncs
   * whenever connected. Throws `BAD_DOC_NAME` for an invalid name and `INVALID_ARGUMENT` if it
   * is already open on this client (close that handle first).
   */
  open(name: string, options: OpenOptions = {}): DocHandle {
    if (this.#closed) throw new WeftError('CLOSED', 'the client was closed; create a new one')
    const nameError = checkDocName(name)
    if (nameError !== undefined) throw nameError
    if (this.#handles.has(name)) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `"${name}" is already open on this client; use that handle`,
      )
    }
    if (
      options.awareness !== undefined &&
      options.awareness.doc !== (options.doc ?? options.awareness.doc)
    ) {
      throw new WeftError('INVALID_ARGUMENT', 'options.awareness must belong to options.doc')
    }
    const handle = new DocHandle(name, this.#owner, this.#options, options)
    this.#handles.set(name, handle)
    this.#observe(handle)
    handle.connectionStatus(this.#connectionStatus)
    if (this.#connection.ready) handle.connectionReady()
    this.#updateStatus()
    return handle
  }

  /**
   * Totals since the client was created (connects, reconnects, retries, bytes sent and received,
   * saves and their ack latency, refusals by code, conflicts seen) and the edits waiting now:
   * cheap, for an app to poll. The same signals reach `onMetric` as they happen.
   */
  metrics(): ClientMetricsSnapshot {
    return this.#metrics.snapshot()
  }

  /** Connects (if not connected) and keeps reconnecting until {@link disconnect}. */
  connect(): void {
    if (this.#closed) throw new WeftError('CLOSED', 'the client was closed; create a new one')
    this.#connection.connect()
  }

  /**
   * Asks the `token` function for a fresh token and hands it to the relay on the open socket
   * (`refresh-token`), before the current one expires. Without a connection the next connect
   * uses a fresh token anyway, so this resolves without sending. Rejects with `INVALID_ARGUMENT`
   * when `token` is not a function, or with the token function's own error.
   */
  async refreshToken(): Promise<void> {
    if (this.#closed) throw new WeftError('CLOSED', 'the client was closed; create a new one')
    await this.#connection.refreshToken()
  }

  /** Where the app is, as last told by {@link setLifecycle}: `foreground` until then. */
  get lifecycle(): AppLifecycle {
    return this.#lifecycle
  }

  /**
   * Tells the client the app went to the background or came back (on React Native, see
   * `followAppState`). In the background it sends no heartbeats, closes its socket after
   * `backgroundKeepAliveMs` (status `offline`, reason "the app is in the background") and does
   * not reconnect; documents stay open and edits wait in the durable outbox. In the foreground
   * it reconnects at once, or checks a live socket with a ping. A client sharing its tabs'
   * connection (`tabs`) only records it: the tab group's socket is not this tab's to close.
   * Throws `INVALID_ARGUMENT` for anything but `'background'` or `'foreground'`.
   */
  setLifecycle(state: AppLifecycle): void {
    if (state !== 'background' && state !== 'foreground') {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `setLifecycle takes 'background' or 'foreground', got ${JSON.stringify(state)}`,
      )
    }
    if (this.#closed) throw new WeftError('CLOSED', 'the client was closed; create a new one')
    this.#lifecycle = state
    this.#connection.setLifecycle?.(state)
  }

  /** Closes the socket and stops reconnecting; documents stay open and keep collecting edits. */
  disconnect(): void {
    this.#connection.disconnect()
  }

  /**
   * Closes every document and the connection; resolves once local writes are finished. The
   * local store stays open (it belongs to the app): close it afterwards if you are done.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#metrics.stop()
    const closing = [...this.#handles.values()].map((handle) => handle.close())
    if (this.#connection.close) this.#connection.close('client closed')
    else this.#connection.disconnect('client closed')
    await Promise.all(closing)
    await this.#candidacy?.stop()
    storesInUse.delete(this.#options.store)
  }

  /**
   * This tab leads its group: it opens the relay connection for every tab, with a client of its
   * own on a sibling of the store (its own namespace; in memory where the store has none, which
   * is still safe: every tab keeps its edits until the relay has saved them).
   */
  async #lead(options: ClientOptions): Promise<() => Promise<void>> {
    const tabs = this.#options.tabs as NonNullable<ResolvedClientOptions['tabs']>
    const own = this.#options.store
    const store: LocalStore =
      (await own.openSibling?.().catch(() => undefined)) ?? new MemoryLocalStore()
    let hub: TabHub | null = null
    // Every tab counts its own documents and connection; only the bytes are the hub's.
    const { onMetric: _ownHook, ...upstreamOptions } = options
    const metrics = this.#metrics
    const upstream = new WeftClient(
      { ...upstreamOptions, store, tabs: false, autoConnect: true },
      {
        onConnection: (state) => hub?.connectionChanged(state),
        onBytes: (direction, bytes) =>
          direction === 'sent' ? metrics.sent(bytes) : metrics.received(bytes),
      },
    )
    upstream.on('retry', ({ attempt, delayMs, reason }) => hub?.retried(attempt, delayMs, reason))
    hub = new TabHub(tabs.group, tabs.locks, tabs.Channel, upstream)
    hub.connectionChanged(upstream.#connectionState())
    const leading = hub
    return async () => {
      await leading.stop()
      await store.close()
    }
  }

  #connectionState(): HubConnectionState {
    return {
      ready: this.#connection.ready,
      status: this.#connectionStatus,
      maxMessageBytes: this.#connection.maxMessageBytes,
    }
  }

  /** Feeds a handle's saves, refusals and pending edits to the client's metrics. */
  #observe(handle: DocHandle): void {
    const metrics = this.#metrics
    metricsOfHandle.set(handle, metrics)
    handle.on('saved', ({ latencyMs }) => metrics.saved(handle.name, latencyMs))
    handle.on('rejected', ({ code }) => metrics.refused(handle.name, code))
    handle.on('pending', () => metrics.pendingChanged())
  }

  /** Edits waiting over every open document, and when the oldest was made. */
  #pending(): { pending: number; oldestPendingAt: number | null } {
    let pending = 0
    let oldestPendingAt: number | null = null
    for (const handle of this.#handles.values()) {
      const outbox = handle.outbox
      pending += outbox.pending
      if (outbox.oldestPendingAt !== null)
        oldestPendingAt = Math.min(oldestPendingAt ?? Infinity, outbox.oldestPendingAt)
    }
    return { pending, oldestPendingAt }
  }

  #route(message: WeftMessage): void {
    if (!('doc' in message)) return
    this.#handles.get(message.doc)?.receive(message)
  }

  #updateStatus(): void {
    let status = this.#connectionStatus
    if (this.#connection.ready) {
      const handles = [...this.#handles.values()]
      status = handles.every((handle) => handle.synced) ? { state: 'synced' } : { state: 'syncing' }
    }
    if (sameStatus(status, this.#status)) return
    this.#status = status
    this.emit('status', [status])
  }
}

const sameStatus = (a: SyncStatus, b: SyncStatus): boolean =>
  JSON.stringify(a) === JSON.stringify(b)

/** Creates a {@link WeftClient}; it connects at once unless `autoConnect` is false. */
export const createClient = (options: ClientOptions): WeftClient => new WeftClient(options)
