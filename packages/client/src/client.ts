/** WeftClient: one socket for many documents, with the connection's status as events. */
import { checkDocName, WeftError, type WeftMessage } from '@weft/protocol'
import { ObservableV2 } from 'lib0/observable'
import { backoffDelayMs } from './backoff.js'
import {
  resolveClientOptions,
  type ClientOptions,
  type ResolvedClientOptions,
} from './client-options.js'
import { Connection, type ConnectionHandlers } from './connection.js'
import { DocHandle, type HandleOwner, type OpenOptions } from './doc-handle.js'
import type { AppLifecycle } from './lifecycle.js'
import type { LocalStore } from './local-store.js'
import { MemoryLocalStore } from './memory-local-store.js'
import type { SyncStatus } from './status.js'
import { TabHub, type HubConnectionState } from './tab-hub.js'
import { runForLeader, type Candidacy } from './tab-leader.js'
import { TabLink } from './tab-link.js'

/** Events of a {@link WeftClient}. */
export interface ClientEvents {
  /** The connection's status changed; `synced` once every open document is. */
  status: (status: SyncStatus) => void
  /** A reconnect is scheduled in `delayMs` (attempt 1, 2…), after the socket ended for `reason`. */
  retry: (event: { attempt: number; delayMs: number; reason: string }) => void
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
    const handlers: ConnectionHandlers = {
      onReady: () => {
        for (const handle of this.#handles.values()) handle.connectionReady()
      },
      onMessage: (message) => this.#route(message),
      onDown: () => {
        observe?.(connectionState())
        for (const handle of this.#handles.values()) handle.connectionDown()
      },
      onStatus: (status) => {
        this.#connectionStatus = status
        observe?.(connectionState())
        for (const handle of this.#handles.values()) handle.connectionStatus(status)
        this.#updateStatus()
      },
      onRetry: (attempt, delayMs, reason) => this.emit('retry', [{ attempt, delayMs, reason }]),
      onPeerEdits: (doc, updates) => this.#handles.get(doc)?.applyPeer(updates),
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
        this.#updateStatus()
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
    handle.connectionStatus(this.#connectionStatus)
    if (this.#connection.ready) handle.connectionReady()
    this.#updateStatus()
    return handle
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
    const upstream = new WeftClient(
      { ...options, store, tabs: false, autoConnect: true },
      { onConnection: (state) => hub?.connectionChanged(state) },
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
