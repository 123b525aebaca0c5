/**
 * Several relay processes on one PostgreSQL and one Redis as the relay side of the convergence
 * simulation: each client's connections go round the relays, and a restart is a SIGKILL of one
 * relay and a new process on its port.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startPostgres } from './postgres.js'
import { startRedis } from './redis.js'
import { spawnRelay, type RelayProcess } from './relay-process.js'
import { freePort, sleep } from './run-support.js'
import { docOf, type SimRelays } from './sim-relays.js'

/** Options of {@link clusterRelays}. */
export interface ClusterRelaysOptions {
  /** Path of the relay's `main.ts`. */
  readonly relayMain: string
  /** Relay processes. Default 3. */
  readonly relays?: number
  /**
   * How long (ms) the scheduler waits for the relays in each settling round: their acknowledgements
   * wait on PostgreSQL and their fan-out on Redis, neither of which this process can await.
   * Default 10.
   */
  readonly idleMs?: number
}

const BASE_URL = 'ws://relays.invalid'

/**
 * Starts PostgreSQL, Redis and `relays` relay processes (`--store postgres --redis-url …`) on
 * fixed ports. Client `c`'s connection `n` goes to relay `(c + n) % relays`, so every reconnect
 * moves a client to the next relay.
 */
export const clusterRelays = async (options: ClusterRelaysOptions): Promise<SimRelays> => {
  const count = options.relays ?? 3
  const idleMs = options.idleMs ?? 10
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()])
  const dir = await mkdtemp(join(tmpdir(), 'weft-sim-cluster-'))
  const processes: RelayProcess[] = []
  const stopAll = async (): Promise<void> => {
    await Promise.all(processes.map((relay) => relay.stop('SIGKILL')))
    await Promise.all([postgres.stop(), redis.stop()])
    await rm(dir, { recursive: true, force: true })
  }
  try {
    const postgresUrl = await postgres.createDatabase()
    const ports = await Promise.all(Array.from({ length: count }, () => freePort()))
    const start = async (index: number): Promise<RelayProcess> => {
      const dataDir = join(dir, String(index))
      await mkdir(dataDir, { recursive: true })
      return spawnRelay(options.relayMain, dataDir, [
        ...['--port', String(ports[index]), '--store', 'postgres'],
        ...['--postgres-url', postgresUrl, '--redis-url', redis.url],
        ...['--unload-grace-ms', '1', '--compact-after-updates', '25'],
      ])
    }
    // One at a time: the first creates the schema.
    for (let index = 0; index < count; index++) processes.push(await start(index))
    // Loaded here, not with the kit: every test file imports the kit, few need PostgreSQL.
    const { PostgresStore } = await import('@weft/store-postgres')
    const store = await PostgresStore.open({ url: postgresUrl })
    return {
      count,
      url: BASE_URL,
      route: (url, client, connection) =>
        url.replace(BASE_URL, `ws://127.0.0.1:${ports[(client + connection) % count]}`),
      whenIdle: () => sleep(idleMs),
      restart: async (pick) => {
        const index = pick(count)
        await processes[index]?.stop('SIGKILL')
        processes[index] = await start(index)
        return `kill -9 relay ${index}`
      },
      stored: async (doc) => docOf(await store.load(doc)),
      close: async () => {
        await store.close()
        await stopAll()
      },
    }
  } catch (error) {
    await stopAll()
    throw error
  }
}
