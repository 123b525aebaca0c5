/** TabLink: a tab's connection to the relay through the group's hub, in the shape of Connection. */
import { WeftError, type WeftMessage } from '@weft/protocol'
import type { ConnectionHandlers } from './connection.js'
import {
  openTabChannel,
  tabId,
  type TabChannel,
  type TabChannelConstructor,
  type TabLocks,
  type TabMessage,
} from './tab-messages.js'

/** The Web Lock a link holds while its tab lives: the hub learns of its end by taking it. */
export const linkLockName = (group: string, link: string): string =>
  `weft-tab-link:${group}:${link}`

/**
 * Reaches the relay through the hub of the tab group (whichever tab leads), with the same
 * contract as a socket of its own: `ready` once the hub's connection to the relay is, `onDown`
 * when it goes or the hub changes, messages in both directions as with the relay. It never
 * retries by itself: the hub's connection does, and tells every link.
 */
export class TabLink {
  readonly #handlers: ConnectionHandlers
  readonly #id = tabId()
  readonly #channel: TabChannel
  readonly #lockHeld: Promise<void>
  #releaseLock: (() => void) | null = null
  #hub: string | null = null
  #wanted = false
  #ready = false
  #closed = false
  #maxMessageBytes = Number.MAX_SAFE_INTEGER
  /** The hub takes `traced` frames (see {@link carriesTraces}). */
  #hubTraces = false

  constructor(
    group: string,
    locks: TabLocks,
    Channel: TabChannelConstructor,
    handlers: ConnectionHandlers,
  ) {
    this.#handlers = handlers
    this.#channel = openTabChannel(Channel, group, (message) => this.#receive(message))
    this.#lockHeld = new Promise<void>((held) => {
      void locks.request(linkLockName(group, this.#id), {}, () => {
        held()
        return new Promise<void>((release) => (this.#releaseLock = release))
      })
    })
  }

  /** Edits may travel with their trace contexts: the hub takes `traced` frames. */
  get carriesTraces(): boolean {
    return this.#ready && this.#hubTraces
  }

  /** The relay's frame limit, as the hub's connection learned it. */
  get maxMessageBytes(): number {
    return this.#maxMessageBytes
  }

  /** True while the hub's connection to the relay is ready for this link. */
  get ready(): boolean {
    return this.#ready
  }

  /** Attaches to the hub (asking which one there is) and stays attached until {@link disconnect}. */
  connect(): void {
    if (this.#wanted || this.#closed) return
    this.#wanted = true
    this.#handlers.onStatus({
      state: 'connecting',
      attempt: 0,
      reason: 'waiting for the tab that holds the connection',
    })
    if (this.#hub === null) this.#post({ kind: 'who' })
    else void this.#hello(this.#hub)
  }

  /** Leaves the hub; this tab's documents stop syncing (other tabs are not affected). */
  disconnect(reason = 'disconnected by the app'): void {
    if (this.#wanted && this.#hub !== null)
      this.#post({ kind: 'bye', hub: this.#hub, link: this.#id })
    this.#wanted = false
    this.#down()
    this.#handlers.onStatus({ state: 'offline', reason })
  }

  /** Leaves for good: the channel closes and the hub lets go of this link's documents. */
  close(reason = 'client closed'): void {
    if (this.#closed) return
    this.disconnect(reason)
    this.#closed = true
    this.#channel.close()
    this.#releaseLock?.()
  }

  /** Sends a message to the relay through the hub; returns whether it was sent. */
  send(message: WeftMessage): boolean {
    if (!this.#ready || this.#hub === null) return false
    this.#post({ kind: 'to-hub', hub: this.#hub, link: this.#id, message })
    return true
  }

  /**
   * Passes this tab's new local edits to the other tabs while this one wants the relay and cannot
   * reach it (the hub's connection is down): tabs offline together keep seeing each other's
   * edits. Each tab still sends its own edits to the relay once it can.
   */
  shareEdits(doc: string, updates: readonly Uint8Array[]): void {
    if (this.#wanted && !this.#ready)
      this.#post({ kind: 'peer-edits', link: this.#id, doc, updates })
  }

  /** Asks the hub to refresh the token of its connection (it calls its own token function). */
  async refreshToken(): Promise<void> {
    if (this.#closed) throw new WeftError('CLOSED', 'the client was closed; create a new one')
    if (this.#hub !== null) this.#post({ kind: 'refresh-token', hub: this.#hub, link: this.#id })
  }

  #receive(message: TabMessage): void {
    if (this.#closed) return
    switch (message.kind) {
      case 'hub':
        if (message.hub === this.#hub) return
        // A new hub: the old one is gone (its tab closed or crashed) or stepped down.
        this.#down()
        this.#hub = message.hub
        if (this.#wanted) void this.#hello(message.hub)
        return
      case 'state':
        if (message.hub !== this.#hub || !this.#wanted) return
        if (message.link !== this.#id && message.link !== '*') return
        this.#hubTraces = message.traced === true
        return this.#state(message.ready, message.status, message.maxMessageBytes)
      case 'retry':
        if (message.hub === this.#hub && this.#wanted)
          this.#handlers.onRetry(message.attempt, message.delayMs, message.reason)
        return
      case 'peer-edits':
        if (message.link !== this.#id && this.#wanted && !this.#ready)
          this.#handlers.onPeerEdits?.(message.doc, message.updates)
        return
      case 'to-link':
        if (message.hub === this.#hub && message.link === this.#id && this.#ready)
          this.#handlers.onMessage(message.message)
        return
      default:
        return
    }
  }

  async #hello(hub: string): Promise<void> {
    await this.#lockHeld
    if (this.#hub === hub && this.#wanted && !this.#closed)
      this.#post({ kind: 'hello', hub, link: this.#id })
  }

  #state(ready: boolean, status: Parameters<ConnectionHandlers['onStatus']>[0], max: number) {
    this.#maxMessageBytes = max
    if (ready && !this.#ready) {
      this.#ready = true
      this.#handlers.onStatus({ state: 'syncing' })
      this.#handlers.onReady()
      return
    }
    if (!ready) {
      this.#down()
      this.#handlers.onStatus(status)
    }
  }

  #down(): void {
    if (!this.#ready) return
    this.#ready = false
    this.#handlers.onDown()
  }

  #post(message: TabMessage): void {
    if (!this.#closed) this.#channel.postMessage(message)
  }
}
