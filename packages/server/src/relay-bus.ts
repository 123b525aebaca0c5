/** RelayBus: what relays sharing one store tell each other about documents, and its byte format. */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/**
 * A message between relays about one document:
 * - `update`: log record `seq` of `doc` is durable in the shared store and holds `updates` (empty
 *   when they were too large to carry: the receiver reads them from the store);
 * - `awareness`: presence changes of the sender's sessions, merged over one presence tick;
 * - `awareness-query`: the sender has just loaded `doc` and asks for everyone's presence;
 * - `revoke`: close every session of token subject `subject` (with `reason`). It concerns no
 *   document: its `doc` is `''`, the relay-wide channel every relay receives whatever it loaded.
 *   With `revocation`, it announces a revocation the sender wrote to the shared store (by subject,
 *   `subject` non-empty, or by token id, `subject` `''`): receivers refuse what it covers at once.
 *
 * `origin` is the sending relay's bus id: a relay ignores its own messages.
 */
export type BusMessage =
  | {
      readonly kind: 'update'
      readonly doc: string
      readonly origin: string
      /** The record's sequence number; 0 for an update sent ahead of its durable record. */
      readonly seq: number
      readonly updates: readonly Uint8Array[]
      /** The document's incarnation the record was written under, when the store has them. */
      readonly incarnation?: string
    }
  | {
      readonly kind: 'awareness'
      readonly doc: string
      readonly origin: string
      readonly update: Uint8Array
    }
  | { readonly kind: 'awareness-query'; readonly doc: string; readonly origin: string }
  | {
      readonly kind: 'revoke'
      readonly doc: ''
      readonly origin: string
      readonly subject: string
      readonly reason: string
      /** The stored revocation this announces; absent for a close without one (`relay.revoke`). */
      readonly revocation?: {
        readonly id: string
        readonly tokenId?: string
        readonly revokedAtMs: number
        readonly expiresAtMs: number
      }
    }
  | { readonly kind: 'deleted'; readonly doc: string; readonly origin: string }

/** What a relay hears from its bus. */
export interface RelayBusListener {
  /**
   * A message of another relay (or the relay's own: check `origin`) about a subscribed document,
   * or one for every relay (`doc` `''`).
   */
  message(message: BusMessage): void
  /**
   * The bus went down (messages may have been lost, none are sent) or came back up with every
   * subscription active again: after an `up`, a relay catches up from the store.
   */
  state(up: boolean): void
}

/**
 * How relays sharing one store reach each other: a latency path, never the source of truth.
 * Messages may be lost (pub/sub drops them silently on a reconnect or an overflow); relays notice
 * gaps in a document's sequence and read the store. Implementations: `@weft/bus-redis`.
 */
export interface RelayBus {
  /** This relay's id on the bus: the `origin` of what it publishes. Unique per process. */
  readonly id: string
  /** Whether messages flow now. */
  readonly up: boolean
  /** Adds a listener; returns the function that removes it. */
  listen(listener: RelayBusListener): () => void
  /**
   * Starts receiving the messages of `doc`; resolves once the subscription is active. While the
   * bus is down it is made when the bus comes back, before `state(true)`.
   */
  subscribe(doc: string): Promise<void>
  /** Stops receiving the messages of `doc`. */
  unsubscribe(doc: string): void
  /**
   * Sends `message` to the other relays subscribed to its document (to every relay for `doc`
   * `''`); dropped while down.
   */
  publish(message: BusMessage): void
}

/**
 * Version of the byte format below; a message in another version is ignored. New kinds are added
 * at the end of `KINDS` without a new version: a relay that does not know one ignores it.
 * History: 1 — update, awareness, awareness-query; then revoke; then deleted; then an update's
 * incarnation, after its updates (absent in older messages, ignored by older relays); then a
 * revoke's stored revocation, after its reason (id, token id or `''`, revoked at, expires at).
 */
const BUS_FORMAT = 1
const KINDS = ['update', 'awareness', 'awareness-query', 'revoke', 'deleted'] as const

/** Encodes a bus message as bytes (updates as they are: no JSON, no base64). */
export const encodeBusMessage = (message: BusMessage): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeUint8(encoder, BUS_FORMAT)
  encoding.writeUint8(encoder, KINDS.indexOf(message.kind))
  encoding.writeVarString(encoder, message.doc)
  encoding.writeVarString(encoder, message.origin)
  if (message.kind === 'update') {
    encoding.writeVarUint(encoder, message.seq)
    encoding.writeVarUint(encoder, message.updates.length)
    for (const update of message.updates) encoding.writeVarUint8Array(encoder, update)
    if (message.incarnation !== undefined) encoding.writeVarString(encoder, message.incarnation)
  } else if (message.kind === 'awareness') {
    encoding.writeVarUint8Array(encoder, message.update)
  } else if (message.kind === 'revoke') {
    encoding.writeVarString(encoder, message.subject)
    encoding.writeVarString(encoder, message.reason)
    const { revocation } = message
    if (revocation !== undefined) {
      encoding.writeVarString(encoder, revocation.id)
      encoding.writeVarString(encoder, revocation.tokenId ?? '')
      encoding.writeVarUint(encoder, revocation.revokedAtMs)
      encoding.writeVarUint(encoder, revocation.expiresAtMs)
    }
  }
  return encoding.toUint8Array(encoder)
}

/**
 * Decodes what {@link encodeBusMessage} wrote; `null` for bytes of another format version or
 * malformed ones (a relay skips them: the sequence gap they leave is repaired from the store).
 */
export const decodeBusMessage = (bytes: Uint8Array): BusMessage | null => {
  try {
    const decoder = decoding.createDecoder(bytes)
    if (decoding.readUint8(decoder) !== BUS_FORMAT) return null
    const kind = KINDS[decoding.readUint8(decoder)]
    const doc = decoding.readVarString(decoder)
    const origin = decoding.readVarString(decoder)
    switch (kind) {
      case 'update': {
        const seq = decoding.readVarUint(decoder)
        const count = decoding.readVarUint(decoder)
        const updates: Uint8Array[] = []
        for (let index = 0; index < count; index += 1)
          updates.push(decoding.readVarUint8Array(decoder))
        if (!decoding.hasContent(decoder)) return { kind, doc, origin, seq, updates }
        return { kind, doc, origin, seq, updates, incarnation: decoding.readVarString(decoder) }
      }
      case 'awareness':
        return { kind, doc, origin, update: decoding.readVarUint8Array(decoder) }
      case 'awareness-query':
        return { kind, doc, origin }
      case 'revoke': {
        if (doc !== '') return null
        const subject = decoding.readVarString(decoder)
        const reason = decoding.readVarString(decoder)
        if (!decoding.hasContent(decoder)) return { kind, doc, origin, subject, reason }
        const id = decoding.readVarString(decoder)
        const tokenId = decoding.readVarString(decoder)
        const revokedAtMs = decoding.readVarUint(decoder)
        const expiresAtMs = decoding.readVarUint(decoder)
        // One of the two names what is revoked.
        if (id === '' || (subject === '') === (tokenId === '')) return null
        const revocation = {
          id,
          ...(tokenId !== '' ? { tokenId } : {}),
          revokedAtMs,
          expiresAtMs,
        }
        return { kind, doc, origin, subject, reason, revocation }
      }
      case 'deleted':
        // A deletion names its document: the relay-wide channel carries none.
        return doc === '' ? null : { kind, doc, origin }
      default:
        return null
    }
  } catch {
    return null
  }
}
