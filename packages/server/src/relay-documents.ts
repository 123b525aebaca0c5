/**
 * RelayDocuments: documents reached from inside the relay process — opened by services, read as
 * JSON or Yjs updates, written with Yjs updates — always through the rooms, so every change takes
 * a client's path (validated, fanned out, durable before it resolves, attributed).
 */
import {
  decodeStateVector,
  openModel,
  type Fields,
  type ModelJson,
  type AnySchema,
} from '@weft/doc'
import { context as activeContext, type Context } from '@opentelemetry/api'
import { checkDocName, WeftError } from '@weft/protocol'
import * as Y from 'yjs'
import type { DocAccess } from './auth.js'
import { docToJson } from './doc-json.js'
import { LocalPeer } from './local-peer.js'
import type { Room } from './room.js'
import type { RoomRegistry } from './room-registry.js'
import { ServiceDocument } from './service-document.js'
import type { RecordWriter } from './record-rules.js'
import { FULL_ACCESS, writeDenied } from './write-rules.js'

/** Who writes, for {@link RelayDocuments.open} and {@link RelayDocuments.applyUpdate}. */
export interface WriterOptions {
  /** The service writing: recorded as `service:<service>` beside each change. */
  readonly service?: string
  /** Or a token subject, recorded as it is (the HTTP API's writers). */
  readonly author?: string
  /** Recorded beside each change, as a client's correlation id is. Default empty. */
  readonly correlationId?: string
  /**
   * Limits the writes to a token's scope, and makes them obey the document's record rules as
   * `author` with `roles`. Default: anything the schema allows.
   */
  readonly access?: DocAccess
  /** The token's roles, for the record rules (with `access`). Default none. */
  readonly roles?: readonly string[]
  /**
   * The OpenTelemetry context whose trace the writes join (their `weft.update` spans are its
   * children). Default: the active context when the call is made.
   */
  readonly traceContext?: Context
}

/** A document as JSON: its records through the schema when it has one, else its root types. */
export type DocumentJson =
  | {
      readonly name: string
      /** Base64 of the Yjs state vector: send it back as `since` to get only what is newer. */
      readonly stateVector: string
      readonly model: ModelJson<Readonly<Record<string, Fields>>>
    }
  | {
      readonly name: string
      readonly stateVector: string
      readonly content: Record<string, unknown>
    }

/** What RelayDocuments needs from its relay. */
export interface RelayDocumentsContext {
  readonly registry: RoomRegistry
  readonly schemaFor: (name: string) => AnySchema | null
  /** Throws while the relay shuts down. */
  readonly assertOpen: () => void
}

/** Documents for code in the relay process; every method validates its input. */
export class RelayDocuments {
  readonly #context: RelayDocumentsContext

  constructor(context: RelayDocumentsContext) {
    this.#context = context
  }

  /**
   * Opens `name` for a service: a replica kept current, edited with `transact` or `change`, each
   * change durable before it resolves. Close it when done.
   */
  async open(name: string, options: WriterOptions): Promise<ServiceDocument> {
    const peer = this.#peer(name, options)
    let handle: ServiceDocument | null = null
    peer.listen({
      deliver: (message) => handle?.receive(message),
      failed: (error) => handle?.failed(error),
    })
    const { registry, schemaFor } = this.#context
    const room = await registry.acquire(name, peer)
    handle = new ServiceDocument(name, peer, {
      room,
      release: (leaving) => registry.release(room, leaving),
      schema: schemaFor(name),
      access: options.access ?? null,
      writer: writerOf(options),
    })
    return handle
  }

  /**
   * The document as JSON (see {@link DocumentJson}); `raw` lists root types even with a schema.
   * Throws `NOT_FOUND` for a document nobody has written.
   */
  async json(name: string, options: { raw?: boolean } = {}): Promise<DocumentJson> {
    return this.#read(name, (room) => {
      const { doc } = room
      const stateVector = Buffer.from(Y.encodeStateVector(doc)).toString('base64')
      const schema = this.#context.schemaFor(name)
      if (schema === null || options.raw === true) {
        return { name, stateVector, content: docToJson(doc) }
      }
      return { name, stateVector, model: openModel(doc, schema, { author: 'relay' }).toJSON() }
    })
  }

  /**
   * The document as one Yjs update, or only what a replica at `since` (an encoded state vector)
   * lacks. Throws `NOT_FOUND` for a document nobody has written, `BAD_MESSAGE` for a malformed
   * state vector.
   */
  async update(name: string, since?: Uint8Array): Promise<Uint8Array> {
    if (since !== undefined) {
      const decoded = decodeStateVector(since)
      if (!decoded.ok) throw decoded.error
    }
    return this.#read(name, (room) => Y.encodeStateAsUpdate(room.doc, since))
  }

  /**
   * Applies a Yjs update as `options`' writer and resolves once it is durable, with the state
   * vector then on disk. `BAD_UPDATE` for malformed bytes; `FORBIDDEN` outside the scope.
   */
  async applyUpdate(name: string, update: Uint8Array, options: WriterOptions): Promise<Uint8Array> {
    if (!(update instanceof Uint8Array) || update.length === 0) {
      throw new WeftError('BAD_UPDATE', 'the update must be non-empty Yjs (v1) bytes')
    }
    const peer = this.#peer(name, options)
    let stateVector: Uint8Array = new Uint8Array([0])
    peer.listen({ saved: (vector) => (stateVector = vector) })
    const { registry } = this.#context
    const room = await registry.acquire(name, peer)
    try {
      const error =
        writeDenied(options.access ?? FULL_ACCESS, room, [update], writerOf(options)) ??
        room.applyUpdate(peer, update, 1)
      if (error !== undefined) throw error
      await peer.whenSaved(1)
      return stateVector
    } finally {
      registry.release(room, peer)
    }
  }

  /** Runs our own read of a loaded room (user code never gets the live document). */
  async #read<T>(name: string, read: (room: Room) => T): Promise<T> {
    const peer = this.#peer(name, { author: 'relay' })
    const { registry } = this.#context
    const room = await registry.acquire(name, peer)
    try {
      if (Y.encodeStateVector(room.doc).length <= 1) {
        throw new WeftError(
          'NOT_FOUND',
          `document "${name}" does not exist: nothing was written to it`,
        )
      }
      return read(room)
    } finally {
      registry.release(room, peer)
    }
  }

  #peer(name: string, options: WriterOptions): LocalPeer {
    const problem = checkDocName(name)
    if (problem !== undefined) throw problem
    this.#context.assertOpen()
    const author = authorOf(options)
    const correlationId = options.correlationId ?? ''
    if (typeof correlationId !== 'string' || correlationId.length > 256) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        'correlationId must be a string of at most 256 characters',
      )
    }
    const traceContext = options.traceContext ?? activeContext.active()
    return new LocalPeer({ author, correlationId, owner: author, traceContext })
  }
}

/** The writer the record rules judge: a token's (given with `access`), else none. */
const writerOf = (options: WriterOptions): RecordWriter | null => {
  const { access, author, roles = [] } = options
  if (access === undefined || author === undefined) return null
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) {
    throw new WeftError('INVALID_ARGUMENT', 'roles must be a list of role names')
  }
  return { subject: author, roles }
}

const authorOf = (options: WriterOptions): string => {
  const { service, author } = options ?? {}
  const valid = (value: unknown): value is string =>
    typeof value === 'string' && value.length > 0 && value.length <= 256
  if (valid(service) && author === undefined) return `service:${service}`
  if (valid(author) && service === undefined) return author
  throw new WeftError(
    'INVALID_ARGUMENT',
    'say who writes: { service: "<name>" } (or { author } for a token subject), 1 to 256 characters',
  )
}
