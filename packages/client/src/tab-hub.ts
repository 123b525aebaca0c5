/** TabHub: the leader tab's relay for the other tabs of its group, over its one connection. */
import { untraceFrame, type TraceContext, type WeftMessage } from '@weft/protocol'
import type { DocHandle } from './doc-handle.js'
import { HubDoc } from './hub-doc.js'
import { linkLockName } from './tab-link.js'
import {
  openTabChannel,
  tabId,
  type TabChannel,
  type TabChannelConstructor,
  type TabLocks,
  type TabMessage,
} from './tab-messages.js'
import type { SyncStatus } from './status.js'

/** The hub's own client: the one that holds the socket to the relay (see `WeftClient`). */
export interface HubUpstream {
  open(name: string): DocHandle
  refreshToken(): Promise<void>
  close(): Promise<void>
}

/** Where the hub's connection to the relay stands. */
export interface HubConnectionState {
  readonly ready: boolean
  readonly status: SyncStatus
  readonly maxMessageBytes: number
}

/**
 * Serves the links of a tab group (one per tab, its own included) over the hub tab's own client.
 * Links attach with `hello` and the hub watches each link's Web Lock, so a tab that closes or
 * crashes is let go of (its presence removed) without a goodbye. A document is opened upstream
 * while some link has it open, and stays open until its edits are saved.
 */
export class TabHub {
  readonly id = tabId()
  readonly #group: string
  readonly #locks: TabLocks
  readonly #channel: TabChannel
  readonly #upstream: HubUpstream
  readonly #links = new Set<string>()
  readonly #watched = new Set<string>()
  readonly #docs = new Map<string, HubDoc>()
  #connection: HubConnectionState = {
    ready: false,
    status: { state: 'connecting', attempt: 0, reason: 'the hub is starting' },
    maxMessageBytes: Number.MAX_SAFE_INTEGER,
  }
  #stopped = false

  constructor(
    group: string,
    locks: TabLocks,
    Channel: TabChannelConstructor,
    upstream: HubUpstream,
  ) {
    this.#group = group
    this.#locks = locks
    this.#upstream = upstream
    this.#channel = openTabChannel(Channel, group, (message) => this.#receive(message))
    this.#post({ kind: 'hub', hub: this.id })
  }

  /** The upstream connection changed: every link is told. */
  connectionChanged(state: HubConnectionState): void {
    this.#connection = state
    this.#post({ kind: 'state', hub: this.id, link: '*', ...state, traced: true })
  }

  /** The upstream connection scheduled a reconnect. */
  retried(attempt: number, delayMs: number, reason: string): void {
    this.#post({ kind: 'retry', hub: this.id, attempt, delayMs, reason })
  }

  /** Steps down: links are told the connection is gone; the upstream client closes. */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#post({
      kind: 'state',
      hub: this.id,
      link: '*',
      ready: false,
      status: { state: 'connecting', attempt: 0, reason: 'the tab holding the connection left' },
      maxMessageBytes: this.#connection.maxMessageBytes,
    })
    this.#stopped = true
    this.#channel.close()
    for (const doc of this.#docs.values()) doc.dispose()
    this.#docs.clear()
    await this.#upstream.close()
  }

  #receive(message: TabMessage): void {
    if (this.#stopped) return
    switch (message.kind) {
      case 'who':
        return this.#post({ kind: 'hub', hub: this.id })
      case 'hello':
        if (message.hub === this.id) this.#hello(message.link)
        return
      case 'bye':
        if (message.hub === this.id) this.#gone(message.link)
        return
      case 'to-hub':
        if (message.hub === this.id && this.#links.has(message.link))
          this.#fromLink(message.link, message.message)
        return
      case 'refresh-token':
        if (message.hub === this.id) this.#upstream.refreshToken().catch(() => {})
        return
      default:
        return
    }
  }

  #hello(link: string): void {
    // A hello again starts a new session of that link: what it had open is forgotten.
    this.#gone(link)
    this.#links.add(link)
    if (!this.#watched.has(link)) {
      this.#watched.add(link)
      // Granted once the link's tab lets its lock go: closed, crashed or closed its client.
      void this.#locks.request(linkLockName(this.#group, link), {}, () => {
        this.#watched.delete(link)
        this.#gone(link)
      })
    }
    this.#post({ kind: 'state', hub: this.id, link, ...this.#connection, traced: true })
  }

  #gone(link: string): void {
    if (!this.#links.delete(link)) return
    for (const [name, doc] of this.#docs) {
      doc.detach(link)
      this.#closeIfIdle(name, doc)
    }
  }

  #fromLink(link: string, received: WeftMessage): void {
    let message = received
    let traces: ReadonlyArray<TraceContext | null> = []
    if (received.type === 'traced') {
      try {
        ;({ message, contexts: traces } = untraceFrame(received))
      } catch {
        return // Every tab of a group runs Weft's client: a malformed frame is not sent.
      }
    }
    if (!('doc' in message)) return
    let doc = this.#docs.get(message.doc)
    if (doc === undefined) {
      if (message.type !== 'open') {
        const reason = 'the document is not open on this link'
        return this.#toLink(link, { type: 'error', doc: message.doc, code: 'DOC_NOT_OPEN', reason })
      }
      doc = this.#openUpstream(message.doc)
    }
    doc.receive(link, message, traces)
    if (message.type === 'close') this.#closeIfIdle(message.doc, doc)
  }

  #openUpstream(name: string): HubDoc {
    const doc = new HubDoc(
      this.#upstream.open(name),
      (link, message) => this.#toLink(link, message),
      () => this.#connection.ready,
    )
    this.#docs.set(name, doc)
    return doc
  }

  /** Closes an upstream document nobody has open, once nothing of it waits for the relay. */
  #closeIfIdle(name: string, doc: HubDoc): void {
    if (!doc.idle || this.#docs.get(name) !== doc) return
    const { handle } = doc
    if (handle.pending > 0) {
      handle.once('pending', () => this.#closeIfIdle(name, doc))
      return
    }
    doc.dispose()
    this.#docs.delete(name)
    void handle.close()
  }

  #toLink(link: string, message: WeftMessage): void {
    this.#post({ kind: 'to-link', hub: this.id, link, message })
  }

  #post(message: TabMessage): void {
    if (!this.#stopped) this.#channel.postMessage(message)
  }
}
