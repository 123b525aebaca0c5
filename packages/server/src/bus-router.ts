/** BusRouter: a relay's end of the bus — subscriptions of loaded documents, delivery to their rooms, catch-up after an outage. */
import type { Logger } from './logger.js'
import type { RelayMetrics } from './metrics.js'
import type { BusMessage, RelayBus } from './relay-bus.js'
import type { CatchUpReason } from './room-sequence.js'

/** What the router needs from a loaded room. */
export interface BusRoom {
  readonly name: string
  /**
   * A durable log record another relay wrote (empty `updates`: read it from the store), or an
   * update sent ahead of its record (`seq` 0).
   */
  receiveUpdate(seq: number, updates: readonly Uint8Array[], incarnation?: string): void
  /** Presence changes of another relay's sessions. */
  receiveAwareness(origin: string, update: Uint8Array): void
  /** Another relay asks for the presence of this relay's sessions. */
  answerAwarenessQuery(): void
  /** Reads the store into the room (messages may have been lost), for `reason`. */
  catchUp(reason: CatchUpReason): Promise<void>
}

/** How a room publishes: the bus id and a publish that drops messages while the bus is down. */
export interface RoomBusLink {
  readonly id: string
  publish(message: BusMessage): void
}

/** How long a load waits for its subscription before going ahead (it catches up once subscribed). */
const SUBSCRIBE_WAIT_MS = 1_000
/** Messages kept for a room still loading; beyond, it catches up from the store once bound. */
const MAX_BUFFERED = 1_024

/** What a relay does about the bus messages that concern more than one room's content. */
export interface BusRouterEvents {
  /** Closes this relay's sessions of a subject (or token) another relay revoked. */
  readonly revoke?: (message: Extract<BusMessage, { kind: 'revoke' }>) => void
  /**
   * Another relay deleted document `doc`, which this relay has loaded (or is loading): close its
   * sessions and unload it without writing.
   */
  readonly deleted?: (doc: string) => void
}

/** Options of {@link BusRouter}. */
export interface BusRouterOptions {
  readonly bus: RelayBus
  readonly logger: Logger
  /** Counts the messages going out and coming in. */
  readonly metrics: Pick<RelayMetrics, 'busMessageIn' | 'busMessageOut'>
  /** What this relay does about relay-wide messages and deletions. Default: nothing. */
  readonly events?: BusRouterEvents
}

interface Subscription {
  room: BusRoom | null
  buffered: BusMessage[]
  overflowed: boolean
}

/**
 * Routes bus messages to rooms. A document is subscribed before its room loads, so nothing
 * durable after the load's read is missed: messages arriving while it loads wait for it. A
 * subscription that takes longer than the load (a stalled bus) is followed by a catch-up. After
 * the bus was down, every loaded room catches up once and asks for the other relays' presence.
 */
export class BusRouter implements RoomBusLink {
  readonly #bus: RelayBus
  readonly #logger: Logger
  readonly #metrics: BusRouterOptions['metrics']
  readonly #subscriptions = new Map<string, Subscription>()
  readonly #detach: () => void
  readonly #events: BusRouterEvents
  #wasDown: boolean

  constructor({ bus, logger, metrics, events = {} }: BusRouterOptions) {
    this.#bus = bus
    this.#logger = logger
    this.#metrics = metrics
    this.#events = events
    this.#wasDown = !bus.up
    this.#detach = bus.listen({
      message: (message) => this.#message(message),
      state: (up) => this.#state(up),
    })
  }

  get id(): string {
    return this.#bus.id
  }

  /** Whether the bus is up. */
  get up(): boolean {
    return this.#bus.up
  }

  publish(message: BusMessage): void {
    if (!this.#bus.up) return
    this.#metrics.busMessageOut(message.kind)
    this.#bus.publish(message)
  }

  /** Subscribes to `name` before its room loads; resolves once active, or after a short wait. */
  async prepare(name: string): Promise<void> {
    const subscription: Subscription = { room: null, buffered: [], overflowed: false }
    this.#subscriptions.set(name, subscription)
    let active = false
    const subscribed = this.#bus.subscribe(name).then(
      () => {
        active = true
        // Subscribed only after the room loaded: what was published in between may be missing.
        const { room } = subscription
        if (room !== null && this.#subscriptions.get(name) === subscription)
          void room.catchUp('load')
      },
      (error: unknown) => {
        this.#logger.warn('bus subscription failed', { doc: name, error: String(error) })
      },
    )
    let timer: ReturnType<typeof setTimeout> | undefined
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS)
    })
    await Promise.race([subscribed, waited])
    clearTimeout(timer)
    if (!active) this.#logger.warn('loading before the bus subscription is active', { doc: name })
  }

  /** The room of `name` has loaded: it receives what waited for it, and asks for presence. */
  bind(room: BusRoom): void {
    const subscription = this.#subscriptions.get(room.name)
    if (subscription === undefined || subscription.room !== null) return
    subscription.room = room
    const { buffered, overflowed } = subscription
    subscription.buffered = []
    for (const message of buffered) this.#deliver(room, message)
    if (overflowed) void room.catchUp('load')
    this.publish({ kind: 'awareness-query', doc: room.name, origin: this.#bus.id })
  }

  /** The room of `name` (or its load, `room` null) is gone: unsubscribes. */
  release(name: string, room: BusRoom | null): void {
    const subscription = this.#subscriptions.get(name)
    if (subscription === undefined || subscription.room !== room) return
    this.#subscriptions.delete(name)
    this.#bus.unsubscribe(name)
  }

  /** Stops listening and unsubscribes every document (the bus itself stays open: its owner closes it). */
  close(): void {
    this.#detach()
    for (const name of this.#subscriptions.keys()) this.#bus.unsubscribe(name)
    this.#subscriptions.clear()
  }

  #message(message: BusMessage): void {
    if (message.origin === this.#bus.id) return
    this.#metrics.busMessageIn(message.kind)
    if (message.kind === 'revoke') return this.#events.revoke?.(message)
    const subscription = this.#subscriptions.get(message.doc)
    if (subscription === undefined) return
    // Not buffered for a room still loading: the relay's deletion waits for the load itself.
    if (message.kind === 'deleted') return this.#events.deleted?.(message.doc)
    const { room } = subscription
    if (room !== null) return this.#deliver(room, message)
    if (subscription.buffered.length < MAX_BUFFERED) subscription.buffered.push(message)
    else subscription.overflowed = true
  }

  #deliver(room: BusRoom, message: BusMessage): void {
    switch (message.kind) {
      case 'update':
        return room.receiveUpdate(message.seq, message.updates, message.incarnation)
      case 'awareness':
        return room.receiveAwareness(message.origin, message.update)
      case 'awareness-query':
        return room.answerAwarenessQuery()
      case 'revoke':
      case 'deleted':
        return
    }
  }

  #state(up: boolean): void {
    this.#logger.info(up ? 'bus up' : 'bus down', {})
    if (!up) {
      this.#wasDown = true
      return
    }
    if (!this.#wasDown) return
    this.#wasDown = false
    for (const [name, { room }] of this.#subscriptions) {
      if (room === null) continue
      void room.catchUp('reconnect')
      this.publish({ kind: 'awareness-query', doc: name, origin: this.#bus.id })
    }
  }
}
