/** startTestRelay: a real relay in this process on a free loopback port, over LevelDB in a temp dir. */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryStore, openAuth, Relay, type DocStore, type RelayOptions } from '@weft/server'
import { createHttpApi, type HttpApiOptions } from '@weft/server/http'
import { LevelStore } from '@weft/store-level'

/** A relay listening on 127.0.0.1 for a test. */
export interface TestRelay {
  /** `ws://127.0.0.1:<port>` */
  readonly url: string
  /** `http://127.0.0.1:<port>`: the `/v1` HTTP API (with `httpApi`), 404 elsewhere. */
  readonly httpUrl: string
  readonly port: number
  readonly relay: Relay
  readonly store: DocStore
  /** `token` when the relay verifies tokens (`auth` given, e.g. `jwtAuth`), else `open`. */
  readonly authMode: 'open' | 'token'
  /** The LevelDB directory (kept across `restart`). */
  readonly dataDir: string
  /** Stops the relay and the store; removes the data directory unless `keepData`. */
  close(options?: { keepData?: boolean }): Promise<void>
}

/** Options of {@link startTestRelay}. */
export interface TestRelayOptions extends Partial<Omit<RelayOptions, 'store'>> {
  /** Reuse this LevelDB directory (for restarts). Default: a fresh temp dir. */
  dataDir?: string
  /** Use this store instead of LevelDB (wrap one to inject failures). */
  store?: DocStore
  /** Leave the store open on `close` (one store shared by several relays). Default false. */
  keepStore?: boolean
  /** Listen on this port. Default 0 (a free one). */
  port?: number
  /** History window of the LevelDB store (and so its change feed), in ms. Default 0: none. */
  historyMs?: number
  /** Serve the `/v1` HTTP API on the same port (with these options when given). Default false. */
  httpApi?: boolean | HttpApiOptions
}

/** Starts a relay on a free port with a LevelDB store in a temp dir (or the given store). */
export const startTestRelay = async (options: TestRelayOptions = {}): Promise<TestRelay> => {
  const {
    dataDir: givenDir,
    store: givenStore,
    port: givenPort,
    historyMs = 0,
    httpApi = false,
    keepStore = false,
    ...relayOptions
  } = options
  const dataDir = givenDir ?? (await mkdtemp(join(tmpdir(), 'weft-test-')))
  const store = givenStore ?? (await LevelStore.open({ path: dataDir, historyMs }))
  const { auth = openAuth() } = relayOptions
  const relay = new Relay({ heartbeatIntervalMs: 0, ...relayOptions, auth, store })
  const api =
    httpApi === false ? () => false : createHttpApi(relay, httpApi === true ? {} : httpApi)
  const server = createServer((request, response) => {
    if (!api(request, response)) response.writeHead(404).end()
  })
  server.on('upgrade', (request, socket, head) => relay.handleUpgrade(request, socket, head))
  await new Promise<void>((resolve) => server.listen(givenPort ?? 0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `ws://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${port}`,
    port,
    relay,
    store,
    authMode: auth.mode,
    dataDir,
    close: async ({ keepData = false } = {}) => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
      await relay.close()
      server.closeAllConnections()
      await stopped
      if (!keepStore) await store.close()
      if (!keepData && givenDir === undefined) await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/** A memory store, for tests that do not need LevelDB. */
export const memoryStore = (): DocStore => new MemoryStore()
