/** WeftProvider: a y-websocket-shaped provider over a Weft client, for editor bindings. */
import { WeftError } from '@weft/protocol'
import { ObservableV2 } from 'lib0/observable'
import type { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'
import type { WeftClient } from './client.js'
import type { DocHandle } from './doc-handle.js'
import { FollowedBinding, type BindingFactory } from './provider-binding.js'
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
   * `reset`): `doc` and `awareness` are new. Bindings made with `bind()` are already re-created
   * when this fires; rebind any other editor to them.
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
 * A refused edit replaces the document (`reset`); `bind()` keeps a binding on the current one:
 *
 * ```ts
 * const provider = new WeftProvider(client, 'notes', new Y.Doc())
 * provider.bind((doc, awareness) => new QuillBinding(doc.getText('quill'), quill, awareness))
 * ```
 */
export class WeftProvider extends ObservableV2<WeftProviderEvents> {
  readonly roomname: string
  readonly handle: DocHandle
  #status: ProviderConnectionStatus = 'disconnected'
  #synced = false
  #destroyed = false
  readonly #bindings = new Set<FollowedBinding>()

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

  /**
   * Binds an editor to the document and keeps it bound: calls `create(doc, awareness)` now, and
   * on every `reset` destroys what it returned (its `destroy()`, or the function itself) and
   * calls it again with the new document and awareness, before `reset` is emitted. The refused
   * edit is not in the new document (it is in `handle.rejected`), so the editor shows the
   * relay's state plus the edits still waiting. `create` must set the editor's content from the
   * document, as y-quill, y-monaco, y-prosemirror and a new CodeMirror view with `yCollab` do.
   * An error `create` throws on a reset is rethrown in a microtask, as a failing event listener's.
   * Returns `unbind`, which destroys the current binding; `destroy()` destroys every binding.
   *
   * @throws WeftError `INVALID_ARGUMENT` when `create` is not a function or returns something
   *   other than a function, an object with `destroy()`, or nothing; `CLOSED` after `destroy()`.
   */
  bind(create: BindingFactory): () => void {
    if (this.#destroyed) throw new WeftError('CLOSED', 'the provider was destroyed')
    if (typeof create !== 'function')
      throw new WeftError('INVALID_ARGUMENT', 'bind(create): create must be a function')
    const binding = new FollowedBinding(create, this.doc, this.awareness)
    this.#bindings.add(binding)
    return () => {
      this.#bindings.delete(binding)
      binding.destroy()
    }
  }

  /** Destroys the bindings, closes the document on the client (withdrawing presence). */
  override destroy(): void {
    if (this.#destroyed) return
    this.#destroyed = true
    for (const binding of this.#bindings) binding.destroy()
    this.#bindings.clear()
    this.handle.off('status', this.#onStatus)
    this.handle.off('reset', this.#onReset)
    void this.handle.close()
    super.destroy()
  }

  #onReset = (event: { doc: Y.Doc; awareness: Awareness }): void => {
    for (const binding of this.#bindings) {
      try {
        binding.rebind(event.doc, event.awareness)
      } catch (error) {
        // The handle's reset is done; one broken binding must not keep the others unbound.
        queueMicrotask(() => {
          throw error
        })
      }
    }
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
