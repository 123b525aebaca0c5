/**
 * RelayAdmin: what operators do to documents — list, inspect, export, import, delete, compact —
 * through the relay's own rooms, so connected clients see the result at once (an import reaches
 * them as a normal update, a deletion closes the document for them with `DOC_DELETED`).
 */
import {
  context as activeContext,
  isSpanContextValid,
  trace,
  type Context,
} from '@opentelemetry/api'
import { fieldOfKey, foldUpdates } from '@weft/doc'
import { checkDocName, WeftError } from '@weft/protocol'
import * as Y from 'yjs'
import type { DocStore, DocSummary, FeedChange } from './doc-store.js'
import { forgetClientIdBindings } from './client-id-owners.js'
import type { Logger } from './logger.js'
import type { Room } from './room.js'
import type { RoomRegistry } from './room-registry.js'
import { changeToRestore } from './restore.js'
import { LocalPeer } from './local-peer.js'
import { traceparentOf } from './tracing.js'

/**
 * A stored document as listed, with whether it is loaded and how many peers it has — on this
 * relay: relays sharing a store each answer for their own rooms and sockets.
 */
export interface DocumentListing extends DocSummary {
  readonly loaded: boolean
  readonly peers: number
}

/** One document in detail. */
export interface DocumentDetails extends DocumentListing {
  /** Yjs client id → clock of everything the document holds. */
  readonly stateVector: Readonly<Record<string, number>>
  /** Size of the whole state as one Yjs update. */
  readonly stateBytes: number
  /** Structs or deletions waiting for updates that never arrived (should be false). */
  readonly pending: boolean
}

/** One accepted update in a document's audit trail. */
export interface AuditEntry {
  /** The log record (one append) it was stored in. */
  readonly seq: number
  /** The token subject (`admin:<operator>` for imports and restores). */
  readonly author: string
  readonly correlationId: string
  readonly receivedAtMs: number
  readonly bytes: number
  /**
   * Document-model fields whose conflict this update resolved (it superseded two or more
   * standing values), as `<collection>/<record id>.<field>`.
   */
  readonly resolved: readonly string[]
}

/** Applies `update` to `doc`; returns the register fields where it superseded 2+ values. */
const resolutionsOf = (doc: Y.Doc, update: Uint8Array): string[] => {
  const resolved: string[] = []
  const look = (transaction: Y.Transaction): void => {
    for (const [type, keys] of transaction.changed) {
      if (!(type instanceof Y.Map)) continue
      const removed = new Map<string, number>()
      const written = new Set<string>()
      for (const key of keys) {
        const field = key === null ? null : fieldOfKey(key)
        if (field === null) continue
        if (type.has(key as string)) written.add(field)
        else removed.set(field, (removed.get(field) ?? 0) + 1)
      }
      for (const [field, count] of removed) {
        if (count < 2 || !written.has(field)) continue
        const id = type._item?.parentSub ?? '?'
        const parent = type._item?.parent
        const collection = [...doc.share].find(([, root]) => root === parent)?.[0] ?? '?'
        resolved.push(`${collection}/${id}.${field}`)
      }
    }
  }
  doc.on('afterTransaction', look)
  try {
    Y.applyUpdate(doc, update)
  } finally {
    doc.off('afterTransaction', look)
  }
  return resolved
}

/** The summary of a document the store holds nothing of (yet). */
const nothingStored = (name: string): DocSummary => ({
  name,
  snapshotBytes: 0,
  logBytes: 0,
  logRecords: 0,
  lastWriteAtMs: null,
  snapshotAtMs: null,
})

const validName = (name: unknown): string => {
  const problem = checkDocName(name)
  if (problem !== undefined) throw problem
  return name as string
}

/** Who RelayAdmin tells about a deletion. */
export interface RelayAdminEvents {
  /** A deletion entered the change feed. */
  readonly changed?: () => void
  /** Document `name` is gone from the store (the relay tells the other relays sharing it). */
  readonly deleted?: (name: string) => void
}

/** The relay's operator operations. Every method validates its input and throws `WeftError`s. */
export class RelayAdmin {
  readonly #registry: RoomRegistry
  readonly #store: DocStore
  readonly #logger: Logger
  readonly #events: RelayAdminEvents

  constructor(
    registry: RoomRegistry,
    store: DocStore,
    logger: Logger,
    events: RelayAdminEvents = {},
  ) {
    this.#registry = registry
    this.#store = store
    this.#logger = logger
    this.#events = events
  }

  /** Every stored or loaded document, by name. */
  async list(): Promise<DocumentListing[]> {
    const stored = new Map((await this.#store.list()).map((doc) => [doc.name, doc]))
    for (const name of this.#registry.names) {
      if (!stored.has(name)) stored.set(name, nothingStored(name))
    }
    const listed: DocumentListing[] = []
    for (const doc of stored.values())
      listed.push({ ...doc, ...(await this.#registry.peek(doc.name)) })
    return listed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  /** One document in detail (loads it for the moment if needed). */
  async inspect(name: string): Promise<DocumentDetails> {
    validName(name)
    const presence = await this.#registry.peek(name)
    const summary =
      (await this.#store.list()).find((doc) => doc.name === name) ?? nothingStored(name)
    return this.#withRoom(name, 'inspect', async (room) => {
      // On relays sharing a store, a loaded room may still wait for another relay's last edits.
      await room.catchUp('admin')
      const { doc } = room
      const vector = Y.decodeStateVector(Y.encodeStateVector(doc))
      return {
        ...summary,
        ...presence,
        stateVector: Object.fromEntries(
          [...vector].map(([client, clock]) => [String(client), clock]),
        ),
        stateBytes: Y.encodeStateAsUpdate(doc).length,
        pending: doc.store.pendingStructs !== null || doc.store.pendingDs !== null,
      }
    })
  }

  /** The whole document as one Yjs update (what `import` takes back). */
  async export(name: string): Promise<Uint8Array> {
    validName(name)
    return this.#withRoom(name, 'export', async (room) => {
      await room.catchUp('admin')
      return Y.encodeStateAsUpdate(room.doc)
    })
  }

  /**
   * Applies a Yjs update to the document as a forward change by `operator` (connected clients
   * receive it like any edit) and resolves once it is durable. A restore is an import of an
   * older state's difference; an import of an exported document into an empty one copies it.
   * Its `weft.update` span (and so its feed event's `traceparent`) starts under `traceContext`
   * (default: the active context; the `/admin` routes give their request's `weft.http` span).
   */
  async import(
    name: string,
    update: Uint8Array,
    operator = 'operator',
    traceContext: Context = activeContext.active(),
  ): Promise<void> {
    validName(name)
    if (!(update instanceof Uint8Array) || update.length === 0) {
      throw new WeftError('INVALID_ARGUMENT', 'import needs the Yjs update as non-empty bytes')
    }
    try {
      Y.applyUpdate(new Y.Doc(), update)
    } catch (cause) {
      throw new WeftError('BAD_UPDATE', 'the bytes are not a Yjs (v1) update', { cause })
    }
    await this.#withRoom(
      name,
      operator,
      async (room, peer) => {
        const error = room.applyUpdate(peer, update, 1)
        if (error !== undefined) throw error
        await peer.whenSaved(1)
      },
      traceContext,
    )
    this.#logger.info('document imported', { doc: name, bytes: update.length, by: operator })
  }

  /**
   * Deletes the document: its connected clients get `DOC_DELETED` for it, and the store removes
   * every record. Resolves once it is gone from disk; opening it again starts a new document.
   * Relays sharing the store over a bus are told once it is gone, and close it for their clients.
   * Its feed event's `traceparent` names the span of `traceContext` (default: the active context;
   * the `/admin` routes give their request's `weft.http` span) when it holds a valid one.
   */
  async delete(
    name: string,
    operator = 'operator',
    traceContext: Context = activeContext.active(),
  ): Promise<void> {
    validName(name)
    const error = new WeftError('DOC_DELETED', `document "${name}" was deleted by an operator`)
    const span = trace.getSpan(traceContext)
    const traced =
      span !== undefined && isSpanContextValid(span.spanContext())
        ? { traceparent: traceparentOf(span) }
        : {}
    const change: FeedChange = {
      kind: 'deleted',
      author: `admin:${operator}`,
      correlationId: 'admin',
      receivedAtMs: Date.now(),
      bytes: 0,
      events: [],
      ...traced,
    }
    await this.#registry.remove(name, error, async () => {
      await this.#store.delete(name, change)
      await forgetClientIdBindings(this.#store, name)
    })
    // Only once it is gone from the store: a relay told earlier could load it again meanwhile.
    this.#events.deleted?.(name)
    this.#events.changed?.()
    this.#logger.info('document deleted', { doc: name, by: operator })
  }

  /**
   * Who changed the document and when, oldest first, as far back as the store's history window
   * reaches; `since` is the earliest time a state can be read for (null: since its creation).
   */
  async history(name: string): Promise<{ since: number | null; entries: AuditEntry[] }> {
    validName(name)
    await this.#registry.whenDurable()
    const { base, records } = await this.#store.history(name)
    // Replayed in order, so each update's effect on document-model registers can be seen.
    const replay = new Y.Doc()
    if (base !== null) Y.applyUpdate(replay, base)
    const entries = records.flatMap((record) =>
      record.entries.map(({ update, meta }) => ({
        seq: record.seq,
        author: meta.author,
        correlationId: meta.correlationId,
        receivedAtMs: meta.receivedAtMs,
        bytes: update.length,
        resolved: resolutionsOf(replay, update),
      })),
    )
    return { since: base === null ? null : (entries[0]?.receivedAtMs ?? Date.now()), entries }
  }

  /**
   * The document as it was at `atMs` (ms since the epoch), as one Yjs update. Throws
   * `INVALID_ARGUMENT` for a time before the history the store keeps.
   */
  async stateAt(name: string, atMs: number): Promise<Uint8Array> {
    validName(name)
    if (!Number.isFinite(atMs)) {
      throw new WeftError('INVALID_ARGUMENT', 'the time must be milliseconds since the epoch')
    }
    await this.#registry.whenDurable()
    const { base, records } = await this.#store.history(name)
    const updates: Uint8Array[] = base === null ? [] : [base]
    let oldest: number | null = null
    for (const record of records) {
      for (const { update, meta } of record.entries) {
        oldest ??= meta.receivedAtMs
        if (meta.receivedAtMs <= atMs) updates.push(update)
      }
    }
    if (base !== null && oldest !== null && atMs < oldest) {
      throw new WeftError(
        'INVALID_ARGUMENT',
        `${new Date(atMs).toISOString()} is before the history kept for "${name}"; the earliest is ${new Date(oldest).toISOString()}`,
      )
    }
    return foldUpdates(updates)
  }

  /**
   * Makes the document read as it did at `atMs`, as a new forward change by `operator` that
   * connected clients receive like any edit (nothing is rewound: the history keeps everything).
   * Returns the size of that change. Its write is traced under `traceContext` as an import's.
   */
  async restore(
    name: string,
    atMs: number,
    operator = 'operator',
    traceContext: Context = activeContext.active(),
  ): Promise<{ bytes: number }> {
    const target = await this.stateAt(name, atMs)
    const current = await this.export(name)
    const change = changeToRestore(current, target)
    await this.import(name, change, operator, traceContext)
    this.#logger.info('document restored', { doc: name, atMs, by: operator })
    return { bytes: change.length }
  }

  /** Writes what is pending and folds the document's log into its snapshot now. */
  async compact(name: string): Promise<{ folded: number }> {
    validName(name)
    return this.#withRoom(name, 'compact', async (room) => ({ folded: await room.compactNow() }))
  }

  /**
   * Joins the document's room as `operator` for the time `use` takes (loading it if needed); its
   * writes are traced under `traceContext` (default: the active context).
   */
  async #withRoom<T>(
    name: string,
    operator: string,
    use: (room: Room, peer: LocalPeer) => T | Promise<T>,
    traceContext: Context = activeContext.active(),
  ): Promise<T> {
    const author = `admin:${operator}`
    const peer = new LocalPeer({ author, correlationId: 'admin', owner: null, traceContext })
    const room = await this.#registry.acquire(name, peer)
    try {
      return await use(room, peer)
    } finally {
      this.#registry.release(room, peer)
    }
  }
}
