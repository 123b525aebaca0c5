/** What one run of a step started (servers, links, agents, directories), released in one place. */
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { startPostgres, startRedis, type TestPostgres, type TestRedis } from '@weft/testkit'
import { Agent } from '../agents/agent.js'
import { LatencyLink } from '../servers/latency-link.js'
import { startServer, type ServerProcess } from '../servers/start-server.js'
import { relayProfiled, type WeftRelayOptions } from '../servers/weft-relay.js'
import type { ServerKind } from '../systems.js'

/**
 * Tracks what a run starts (agents, links, servers, PostgreSQL and Redis, directories) so that
 * `release()` stops all of it, whatever failed.
 */
export class Resources {
  readonly #root: string
  readonly #servers: ServerProcess[] = []
  readonly #agents: Agent[] = []
  readonly #links: LatencyLink[] = []
  readonly #dirs: string[] = []
  /** Backing services (PostgreSQL, Redis), stopped after the servers that use them. */
  readonly #services: Array<TestPostgres | TestRedis> = []

  constructor(root: string) {
    this.#root = root
  }

  /** A fresh data directory under the step's temporary directory. */
  async dir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(this.#root, `${prefix}-`))
    this.#dirs.push(dir)
    return dir
  }

  /** Starts a server (stopped with SIGKILL on release if still running). */
  async server(
    kind: ServerKind,
    dataDir: string,
    weft: WeftRelayOptions = {},
  ): Promise<ServerProcess> {
    const server = await startServer(kind, dataDir, weft)
    this.#servers.push(server)
    return server
  }

  /** Starts a link adding `rttMs` of round trip in front of the server at `127.0.0.1:port`. */
  async link(port: number, rttMs: number): Promise<LatencyLink> {
    const link = await LatencyLink.start(port, rttMs)
    this.#links.push(link)
    return link
  }

  /** Starts `count` agents in parallel. */
  async agents(prefix: string, count: number): Promise<Agent[]> {
    const agents = await Agent.startMany(prefix, count)
    for (const agent of agents) this.#agents.push(agent)
    return agents
  }

  /** Starts a PostgreSQL server of its own (testkit's, in a temp directory; `fsync` on). */
  async postgres(): Promise<TestPostgres> {
    const postgres = await startPostgres()
    this.#services.push(postgres)
    return postgres
  }

  /** Starts a redis-server of its own (testkit's, no persistence). */
  async redis(): Promise<TestRedis> {
    const redis = await startRedis()
    this.#services.push(redis)
    return redis
  }

  /** Stops every agent, link, server and backing service and removes the directories. */
  async release(): Promise<void> {
    await Promise.all(this.#agents.splice(0).map((agent) => agent.stop()))
    await Promise.all(this.#links.splice(0).map((link) => link.close()))
    // A profiled relay writes its profile as it exits: it gets SIGTERM (SIGKILL after 30 s).
    await Promise.all(
      this.#servers
        .splice(0)
        .map((server) =>
          server.stop(server.kind === 'weft' && relayProfiled() ? 'SIGTERM' : 'SIGKILL'),
        ),
    )
    await Promise.all(this.#services.splice(0).map((service) => service.stop()))
    await Promise.all(this.#dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
  }
}

/** Runs `work` with fresh resources and releases them afterwards. */
export const withResources = async <T>(
  root: string,
  work: (resources: Resources) => Promise<T>,
): Promise<T> => {
  const resources = new Resources(root)
  try {
    return await work(resources)
  } finally {
    await resources.release()
  }
}
