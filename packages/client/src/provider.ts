/** WeftProvider: a y-websocket-shaped provider over a Weft client, for editor bindings. */
import { ObservableV2 } from 'lib0/observable'
import type { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'
import type { WeftClient } from './client.js'
import type { DocHandle } from './doc-handle.js'
import type { SyncStatus } from './status.js'

/** The connection states y-websocket reports in its `status` event. */
export type ProviderConnectionStatus = 'connected' | 'connecting' | 'disconnected'

/** Events of a {@link WeftProvider}, named and shaped as y-websocket's. */
export interface WeftProviderEvents {
  /** `true` once the relay's state arrived, `false` when the connection is lost. */
  sync: (isSynced: boolean) => void
  /** Alias of `sync`, as y-websocket emits both. */
  synced: (isSynced: boolean) => void
  status: (event: { status: ProviderConnectionStatus }) => void
  /**
   * The relay refused an edit and the document was rebuilt from its state (see the handle's
   * `reset`): `doc` and `awareness` are new; rebind the editor to them.
   */
  reset: (event: { doc: Y.Doc; awareness: Awareness }) => void
}

/** Options of {@link WeftProvider}. */
export interface WeftProviderOptions {
  /** Connect at once (default true), as y-websocket's `connect` option. */
  connect?: boolean
  /** Use this awareness (it must belong to `doc`). */
  awareness?: Awareness
}

const toConnectionStatus = (status: SyncStatus): ProviderConnectionStatus =>
  status.state === 'synced' || status.state === 'syncing'
    ? 'connected'
    : status.state === 'connecting' || status.state === 'authenticating'
      ? 'connecting'
      : 'disconnected'

/**
 * Drop-in for y-websocket's `WebsocketProvider` where editor bindings expect one (y-prosemirror,
 * y-codemirror.next, Tiptap's collaboration extensions): `doc`, `awareness`, `synced`,
 * `on('sync' | 'status')`, `connect()`, `disconnect()`, `destroy()`. Many providers share the
 * client's one socket; `disconnect()` stops syncing this document only, and edits keep
 * collecting in the outbox. The Weft handle is `provider.handle` (pending, whenSaved, status).
 *
 * ```ts
 * const provider = new WeftProvider(client, 'notes', ydoc)
 * yCollab(ytext, provider.awareness) // y-codemirror.next
 * ```
 */
export class WeftProvider extends ObservableV2<WeftProviderEvents> {
  readonly roomname: string
  readonly handle: DocHandle
  #status: ProviderConnectionStatus = 'disconnected'
  #synced = false

  constructor(client: WeftClient, roomname: string, doc: Y.Doc, options: WeftProviderOptions = {}) {
    super()
    this.roomname = roomname
    const openOptions =
      options.awareness === undefined ? { doc } : { doc, awareness: options.awareness }
    this.handle = client.open(roomname, openOptions)
    this.handle.on('status', this.#onStatus)
    this.handle.on('reset', this.#onReset)
    if (options.connect === false) this.handle.pause()
    this.#onStatus(this.handle.status)
  }

  /** The document: the one given, until a refused edit replaces it (`reset`). */
  get doc(): Y.Doc {
    return this.handle.doc
  }

  /** The document's awareness, for cursor and presence bindings. */
  get awareness(): Awareness {
    return this.handle.awareness
  }

  /** True once the relay's state has arrived on the current connection. */
  get synced(): boolean {
    return this.#synced
  }

  /** True while connected (y-websocket's name). */
  get wsconnected(): boolean {
    return this.#status === 'connected'
  }

  /** True while connecting (y-websocket's name). */
  get wsconnecting(): boolean {
    return this.#status === 'connecting'
  }

  /** True unless `disconnect()` paused this document (y-websocket's name). */
  get shouldConnect(): boolean {
    return !this.handle.paused
  }

  /** Starts (or resumes) syncing this document. */
  connect(): void {
    this.handle.resume()
  }

  /** Stops syncing this document; local edits keep collecting until `connect()`. */
  disconnect(): void {
    this.handle.pause()
  }

  /** Closes the document on the client (withdrawing presence) and removes listeners. */
  override destroy(): void {
    this.handle.off('status', this.#onStatus)
    this.handle.off('reset', this.#onReset)
    void this.handle.close()
    super.destroy()
  }

  #onReset = (event: { doc: Y.Doc; awareness: Awareness }): void => {
    this.emit('reset', [{ doc: event.doc, awareness: event.awareness }])
  }

  #onStatus = (status: SyncStatus): void => {
    const connection = toConnectionStatus(status)
    if (connection !== this.#status) {
      this.#status = connection
      this.emit('status', [{ status: connection }])
    }
    const synced = status.state === 'synced'
    if (synced !== this.#synced) {
      this.#synced = synced
      this.emit('sync', [synced])
      this.emit('synced', [synced])
    }
  }
}
