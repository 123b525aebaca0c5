/** Tab messages: what the tabs of one group say to each other over their BroadcastChannel. */
import type { WeftMessage } from '@weft/protocol'
import type { SyncStatus } from './status.js'

/**
 * One tab's side of the group's channel. Every tab hears every message (BroadcastChannel), so
 * messages meant for one link or one hub name it, and the others ignore them.
 *
 * - `who`: a link asks which hub there is; the hub answers with `hub`.
 * - `hub`: a hub announces itself (when it starts, and in answer to `who`).
 * - `hello` / `bye`: a link attaches to a hub, or leaves it.
 * - `state`: the hub's connection to the relay, sent to a link on `hello` and to every link when
 *   it changes; `ready` links may open documents.
 * - `retry`: the hub scheduled a reconnect to the relay.
 * - `to-hub` / `to-link`: a Weft message between a link and the hub, as it would travel between a
 *   client and the relay.
 * - `refresh-token`: a link asks the hub to refresh the relay connection's token.
 * - `peer-edits`: a link's new local edits, while it wants the relay and cannot reach it; the
 *   other links in that state apply them, so tabs offline together still see each other.
 */
export type TabMessage =
  | { readonly kind: 'who' }
  | { readonly kind: 'hub'; readonly hub: string }
  | { readonly kind: 'hello'; readonly hub: string; readonly link: string }
  | { readonly kind: 'bye'; readonly hub: string; readonly link: string }
  | {
      readonly kind: 'state'
      readonly hub: string
      /** A link id, or `*` for every link of the hub. */
      readonly link: string
      readonly ready: boolean
      readonly status: SyncStatus
      readonly maxMessageBytes: number
      /** The hub takes `traced` frames from its links (older hubs leave it out). */
      readonly traced?: boolean
    }
  | {
      readonly kind: 'retry'
      readonly hub: string
      readonly attempt: number
      readonly delayMs: number
      readonly reason: string
    }
  | {
      readonly kind: 'to-hub'
      readonly hub: string
      readonly link: string
      readonly message: WeftMessage
    }
  | {
      readonly kind: 'to-link'
      readonly hub: string
      readonly link: string
      readonly message: WeftMessage
    }
  | { readonly kind: 'refresh-token'; readonly hub: string; readonly link: string }
  | {
      readonly kind: 'peer-edits'
      readonly link: string
      readonly doc: string
      readonly updates: readonly Uint8Array[]
    }

/** The part of the Web Locks API (`navigator.locks`) that tabs use to elect a leader. */
export interface TabLocks {
  request<T>(
    name: string,
    options: {
      readonly ifAvailable?: boolean
      readonly mode?: 'exclusive' | 'shared'
      readonly signal?: AbortSignal
    },
    callback: (lock: unknown) => Promise<T> | T,
  ): Promise<T>
}

/** The part of BroadcastChannel that tabs use. */
export interface TabChannel {
  postMessage(message: TabMessage): void
  close(): void
  onmessage: ((event: MessageEvent) => void) | null
}

/** A BroadcastChannel constructor (the browser's, or a compatible one). */
export type TabChannelConstructor = new (name: string) => TabChannel

/** Opens the group's channel and hands each message to `receive`. */
export const openTabChannel = (
  Channel: TabChannelConstructor,
  group: string,
  receive: (message: TabMessage) => void,
): TabChannel => {
  const channel = new Channel(`weft-tabs:${group}`)
  channel.onmessage = (event: MessageEvent) => {
    const message = event.data as TabMessage | null
    if (typeof message === 'object' && message !== null && typeof message.kind === 'string')
      receive(message)
  }
  return channel
}

/** A random id for a hub or a link. */
export const tabId = (): string => globalThis.crypto.randomUUID()
