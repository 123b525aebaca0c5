/** One document opened by one client of any kind, behind the small interface the roles use. */
import { WebSocket, type RawData } from 'ws'
import type { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'
import type { ClientKind } from '../systems.js'

/** An open document, whatever the client library. */
export interface BenchDoc {
  readonly doc: Y.Doc
  /** The client's awareness (presence) of this document. */
  readonly awareness: Awareness
  /** True once the client reports it has the server's state (its own "synced" notion). */
  readonly synced: boolean
  /** Resolves when the client first reports synced. */
  whenSynced(): Promise<void>
  /**
   * Resolves when the server has confirmed every local edit so far: `saved` (on disk) for the
   * Weft client, Hocuspocus's own acknowledgement (applied, not stored), and for y-websocket
   * (no acknowledgements) once the socket's send buffer is empty.
   */
  whenConfirmed(): Promise<void>
  /** The underlying WebSocket, for `bufferedAmount` (null before it is created). */
  socket(): WebSocket | null
  /** Calls `listener` with every frame this client receives, on every socket it opens. */
  onFrame(listener: FrameListener): void
  close(): Promise<void>
}

/** Receives each frame a client's socket received, as bytes. */
export type FrameListener = (frame: Uint8Array) => void

/** Opens `name` on the server at `url` (`ws://host:port`) with a `kind` client. */
export type OpenBenchDoc = (url: string, name: string) => BenchDoc

/** A WebSocket constructor as the client libraries call it. */
export type WebSocketClass = new (url: string | URL, protocols?: string | string[]) => WebSocket

/**
 * The load comes from one machine, as it would through a reverse proxy: each socket names a
 * client address of its own in `X-Forwarded-For` (from 198.18.0.0/15, the range set aside for
 * benchmarks), which the relay believes from a loopback peer at its default `--trusted-proxies`,
 * so its per-address limit applies per client, as in production. The peers ignore the header.
 */
const clientAddress = (): string => {
  const bits = Math.floor(Math.random() * 2 ** 17)
  return `198.${18 + (bits >> 16)}.${(bits >> 8) & 255}.${bits & 255}`
}

/** `ws`'s WebSocket, each socket arriving as a distinct client behind a proxy (see above). */
export class ProxiedWebSocket extends WebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols, { headers: { 'x-forwarded-for': clientAddress() } })
  }
}

const frameBytes = (data: RawData): Uint8Array =>
  Array.isArray(data)
    ? Buffer.concat(data)
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : data

/** A WebSocket class that remembers its sockets and shows their frames to listeners. */
export interface TrackedWebSocket {
  readonly Ctor: WebSocketClass
  /** The socket created last (null before the first). */
  latest(): WebSocket | null
  /** Calls `listener` with every frame received by every socket created from now on. */
  onFrame(listener: FrameListener): void
}

/**
 * A WebSocket class that remembers the sockets it creates, so a client library that only takes
 * a constructor (all three do) still lets the benchmark read `bufferedAmount` and see the frames
 * that arrive (an extra `message` listener; the library's own handler is untouched).
 */
export const trackedWebSocket = (): TrackedWebSocket => {
  let latest: WebSocket | null = null
  const listeners: FrameListener[] = []
  class TrackedSocket extends ProxiedWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols)
      latest = this
      this.on('message', (data: RawData) => {
        if (listeners.length === 0) return
        const frame = frameBytes(data)
        for (const listener of listeners) listener(frame)
      })
    }
  }
  return {
    Ctor: TrackedSocket,
    latest: () => latest,
    onFrame: (listener) => void listeners.push(listener),
  }
}

/** Resolves once `socket`'s send buffer is empty (polled every millisecond, bounded). */
export const whenDrained = async (socket: WebSocket | null, timeoutMs = 60_000): Promise<void> => {
  const started = Date.now()
  while (socket !== null && socket.bufferedAmount > 0) {
    if (Date.now() - started > timeoutMs) throw new Error('send buffer did not drain')
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}

/** The kinds a role can open, filled in by `open-doc.ts`. */
export type ClientKinds = Readonly<Record<ClientKind, OpenBenchDoc>>
