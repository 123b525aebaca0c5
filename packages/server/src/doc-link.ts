/** DocLink: one document open on a Weft socket, as the room sees it. */
import type { Context } from '@opentelemetry/api'
import type { TraceContext, WeftError, WeftMessage } from '@weft/protocol'
import type { Outgoing } from './outgoing.js'
import type { Room, RoomPeer } from './room.js'

/**
 * A message about one document. An edit that came in a `traced` frame carries its updates'
 * trace contexts, one per update (`null`: none).
 */
export type DocMessage = Extract<WeftMessage, { doc: string }> & {
  readonly traces?: ReadonlyArray<TraceContext | null>
}

/** What a document link needs from its session. */
export interface DocLinkSession {
  readonly author: string
  readonly traceContext: Context
  readonly correlationId: string
  readonly owner: string | null
  readonly claims: Readonly<Record<string, unknown>> | null
  /** Frames from this many bytes go compressed to this session's client; `null`: none does. */
  readonly compressFromBytes: number | null
  send(message: WeftMessage): void
  sendFrame(frame: Uint8Array): void
  closeDoc(link: DocLink, error: WeftError): void
}

/** One document open on a Weft socket; the room reaches the session through it. */
export class DocLink implements RoomPeer {
  readonly dialect = 'weft'
  readonly name: string
  readonly #session: DocLinkSession
  room: Room | null = null
  /** Messages that arrived while the room loaded; `null` once it is open. */
  queue: DocMessage[] | null = []
  queuedBytes = 0

  constructor(name: string, session: DocLinkSession) {
    this.name = name
    this.#session = session
  }

  get author(): string {
    return this.#session.author
  }

  get traceContext(): Context {
    return this.#session.traceContext
  }

  get correlationId(): string {
    return this.#session.correlationId
  }

  get owner(): string | null {
    return this.#session.owner
  }

  get claims(): Readonly<Record<string, unknown>> | null {
    return this.#session.claims
  }

  deliver(message: Outgoing): void {
    const frames = message.frames('weft', this.#session.compressFromBytes)
    for (const frame of frames) this.#session.sendFrame(frame)
  }

  saved(ref: number, stateVector: Uint8Array): void {
    this.#session.send({ type: 'saved', doc: this.name, ref, stateVector })
  }

  roomFailed(error: WeftError): void {
    this.room = null
    this.#session.closeDoc(this, error)
  }
}

/** Bytes a queued message holds, roughly; for the cap on what may wait while a document loads. */
export const queuedSize = (message: DocMessage): number => {
  if (message.type === 'updates')
    return message.updates.reduce((sum, update) => sum + update.length, 64)
  return 'update' in message ? message.update.length + 64 : 64
}
