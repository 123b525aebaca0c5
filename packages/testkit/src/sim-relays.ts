/**
 * The relay side of the convergence simulation: one relay in this process on LevelDB (exact
 * replay), or several relay processes on one PostgreSQL and one Redis. The scheduler asks it
 * where a connection goes, waits on it, restarts a relay and reads the stored copy.
 */
import * as Y from 'yjs'
import { startTestRelay, type TestRelay } from './test-relay.js'

/** The relays a simulation runs against. */
export interface SimRelays {
  /** How many relays there are. */
  readonly count: number
  /** The URL every client is given; {@link SimRelays.route} maps it to a relay. */
  readonly url: string
  /** The URL connection number `connection` of client `client` really opens. */
  route(url: string, client: number, connection: number): string
  /** Resolves once the relays have written what they acknowledged so far, as far as can be told. */
  whenIdle(): Promise<void>
  /** Restarts one relay (`pick` chooses it when there are several); names the move. */
  restart(pick: (count: number) => number): Promise<string>
  /** The document as the relays' store holds it. */
  stored(doc: string): Promise<Y.Doc>
  /** Stops every relay and removes their data. */
  close(): Promise<void>
}

/** Applies a store's snapshot and updates to a fresh document. */
export const docOf = (loaded: {
  snapshot: Uint8Array | null
  updates: readonly Uint8Array[]
}): Y.Doc => {
  const doc = new Y.Doc()
  if (loaded.snapshot !== null) Y.applyUpdate(doc, loaded.snapshot)
  for (const update of loaded.updates) Y.applyUpdate(doc, update)
  return doc
}

/**
 * One relay in this process on LevelDB, restarted on the same data and port: `whenIdle` is the
 * relay's own `whenDurable`, so a seed replays exactly.
 */
export const localRelay = async (): Promise<SimRelays> => {
  const relayOptions = { unloadGraceMs: 1, compactAfterUpdates: 25 }
  let relay: TestRelay = await startTestRelay(relayOptions)
  const { dataDir, port } = relay
  return {
    count: 1,
    url: `ws://127.0.0.1:${port}`,
    route: (url) => url,
    whenIdle: () => relay.relay.whenDurable(),
    restart: async () => {
      await relay.close({ keepData: true })
      relay = await startTestRelay({ ...relayOptions, dataDir, port })
      return 'restart relay'
    },
    stored: async (doc) => docOf(await relay.store.load(doc)),
    close: () => relay.close(),
  }
}
