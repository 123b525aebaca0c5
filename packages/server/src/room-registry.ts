/** RoomRegistry: loads each document once however many peers race for it, and unloads idle ones. */
import type { AnySchema } from '@weft/doc'
import { WeftError } from '@weft/protocol'
import type { BusRouter } from './bus-router.js'
import type { RecordRules } from './record-rules.js'
import { sumDrift, type RelayDrift } from './relay-drift.js'
import { Room, type RoomPeer, type RoomSettings } from './room.js'
import type { WriterDrift } from './room-writer.js'

interface Entry {
  readonly room: Promise<Room>
  /** The room once its load resolved (for synchronous reads such as `drift`). */
  loaded: Room | null
  unloadTimer: ReturnType<typeof setTimeout> | null
  unloading: Promise<void> | null
}

/** Settings of the registry, resolved by the relay. */
export interface RoomRegistrySettings extends Omit<
  RoomSettings,
  'onFailed' | 'schema' | 'rules' | 'busLink'
> {
  /** How long a room with no peers stays loaded, in milliseconds. */
  readonly unloadGraceMs: number
  /** The schema of a document, if it has one. Default: none has. */
  readonly schemaFor?: (name: string) => AnySchema | null
  /** The record rules of a document with a schema, if it has some. Default: none has. */
  readonly rulesFor?: (name: string) => RecordRules | null
  /**
   * The bus to other relays sharing the store: a document is subscribed before it loads and
   * unsubscribed once unloaded. Default none.
   */
  readonly router?: BusRouter | null
}

/**
 * Owns the loaded rooms. A document is loaded once: concurrent `acquire` calls share one load. A
 * failed load rejects every waiter with `UNAVAILABLE` and is forgotten, so the next call tries
 * again; an empty document is never served in its place. A room without peers unloads after the
 * grace period, once its writes are durable; a peer arriving meanwhile waits and reloads.
 */
export class RoomRegistry {
  readonly #settings: RoomRegistrySettings
  readonly #entries = new Map<string, Entry>()
  #closed = false

  constructor(settings: RoomRegistrySettings) {
    this.#settings = settings
  }

  /** Number of rooms loaded or loading. */
  get size(): number {
    return this.#entries.size
  }

  /** Loads (or reuses) the room for `name` and adds `peer` to it. */
  async acquire(name: string, peer: RoomPeer): Promise<Room> {
    for (;;) {
      if (this.#closed) throw new WeftError('SHUTTING_DOWN', 'the relay is shutting down')
      let entry = this.#entries.get(name)
      if (entry === undefined) {
        entry = this.#load(name)
        this.#entries.set(name, entry)
      }
      if (entry.unloading !== null) {
        await entry.unloading
        continue
      }
      const room = await entry.room
      // While we waited the room may have failed or started unloading: go round again.
      if (this.#entries.get(name) !== entry || entry.unloading !== null || room.failure !== null)
        continue
      if (entry.unloadTimer !== null) {
        clearTimeout(entry.unloadTimer)
        entry.unloadTimer = null
      }
      room.join(peer)
      return room
    }
  }

  /** Removes `peer` from `room`; the room unloads after the grace period if nobody else joins. */
  release(room: Room, peer: RoomPeer): void {
    room.leave(peer)
    const entry = this.#entries.get(room.name)
    if (entry === undefined || room.peerCount > 0 || entry.unloading !== null) return
    if (entry.unloadTimer !== null) clearTimeout(entry.unloadTimer)
    entry.unloadTimer = setTimeout(() => this.#unload(room, entry), this.#settings.unloadGraceMs)
  }

  /** Resolves once every loaded room has integrated and stored what it received so far. */
  async whenDurable(): Promise<void> {
    const waits = [...this.#entries.values()].map(async (entry) => {
      if (entry.unloading !== null) return entry.unloading
      const room = await entry.room.catch(() => null)
      await room?.whenDurable()
    })
    await Promise.all(waits)
  }

  /**
   * Ends the room of `name` if loaded (its peers get `error`), runs `erase`, and keeps every
   * `acquire` of `name` waiting until both are done: nobody loads the document meanwhile.
   */
  async remove(name: string, error: WeftError, erase: () => Promise<void>): Promise<void> {
    const previous = this.#entries.get(name)
    if (previous?.unloadTimer != null) clearTimeout(previous.unloadTimer)
    const work = (async () => {
      if (previous !== undefined) {
        await previous.unloading
        const room = await previous.room.catch(() => null)
        await room?.discard(error)
        if (room !== null) this.#settings.router?.release(name, room)
      }
      await erase()
    })()
    const entry: Entry = {
      room: new Promise<Room>(() => {}),
      loaded: null,
      unloadTimer: null,
      unloading: work.finally(() => {
        if (this.#entries.get(name) === entry) this.#entries.delete(name)
      }),
    }
    this.#entries.set(name, entry)
    await entry.unloading
  }

  /** Whether `name` is loaded, and how many peers it has. */
  async peek(name: string): Promise<{ loaded: boolean; peers: number }> {
    const entry = this.#entries.get(name)
    if (entry === undefined || entry.unloading !== null) return { loaded: false, peers: 0 }
    const room = await entry.room.catch(() => null)
    return room === null ? { loaded: false, peers: 0 } : { loaded: true, peers: room.peerCount }
  }

  /**
   * How far the loaded rooms (unloading ones included: they still write) run ahead of the store;
   * from memory, one pass over the rooms.
   */
  drift(): RelayDrift {
    const rooms: WriterDrift[] = []
    for (const entry of this.#entries.values())
      if (entry.loaded !== null) rooms.push(entry.loaded.drift)
    return sumDrift(rooms)
  }

  /** Names of the documents loaded or loading. */
  get names(): string[] {
    return [...this.#entries.keys()]
  }

  /** Unloads every room after its writes are durable; later `acquire` calls fail. */
  async close(): Promise<void> {
    this.#closed = true
    const closing: Array<Promise<void>> = []
    for (const [name, entry] of this.#entries) {
      if (entry.unloadTimer !== null) clearTimeout(entry.unloadTimer)
      closing.push(
        entry.unloading ??
          entry.room.then(
            (room) => room.close(),
            () => undefined,
          ),
      )
      this.#entries.delete(name)
    }
    await Promise.all(closing)
  }

  #load(name: string): Entry {
    const router = this.#settings.router ?? null
    const settings = {
      ...this.#settings,
      schema: this.#settings.schemaFor?.(name) ?? null,
      rules: this.#settings.rulesFor?.(name) ?? null,
      busLink: router,
      onFailed: (failed: Room) => {
        if (this.#entries.get(failed.name)?.room === entry.room) this.#entries.delete(failed.name)
        router?.release(failed.name, failed)
      },
    }
    // Subscribed before the load reads the store: nothing durable after that read is missed.
    const room =
      router === null
        ? Room.load(name, settings)
        : router
            .prepare(name)
            .then(() => Room.load(name, settings))
            .then((loaded) => {
              router.bind(loaded)
              return loaded
            })
    const entry: Entry = { room, loaded: null, unloadTimer: null, unloading: null }
    void room.then(
      (loaded) => (entry.loaded = loaded),
      () => {},
    )
    room.catch((error: unknown) => {
      if (this.#entries.get(name) === entry) this.#entries.delete(name)
      router?.release(name, null)
      // The cause says what failed (the store's error names the record and key id, never data).
      const cause = (error as { cause?: unknown } | null)?.cause
      this.#settings.logger.warn('document failed to load', {
        doc: name,
        error: String(cause ?? error),
      })
    })
    return entry
  }

  #unload(room: Room, entry: Entry): void {
    entry.unloadTimer = null
    if (room.peerCount > 0 || this.#entries.get(room.name) !== entry) return
    const { logger } = this.#settings
    logger.debug('unloading', { doc: room.name })
    entry.unloading = room.close().finally(() => {
      if (this.#entries.get(room.name) === entry) this.#entries.delete(room.name)
      this.#settings.router?.release(room.name, room)
      logger.debug('unloaded', { doc: room.name })
    })
  }
}
