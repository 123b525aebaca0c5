/**
 * startRelayServer: the relay's HTTP(S) server — WebSocket upgrades, health routes and a landing
 * page — its admin listener if any, and the store under it.
 */
import { createServer, type Server } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { readFile } from 'node:fs/promises'
import {
  jwtAuth,
  MemoryStore,
  openAuth,
  Relay,
  type Authenticator,
  type DocStore,
  type Logger,
} from '@weft/server'
import { createHttpApi } from '@weft/server/http'
import { WebhookDispatcher } from '@weft/server/webhooks'
import { LevelStore, type EncryptionKey } from '@weft/store-level'
import { PostgresStore } from '@weft/store-postgres'
import { RedisBus } from '@weft/bus-redis'
import type { RelayConfig } from './config.js'
import { createRelayPrometheus } from './metrics.js'
import { routeRequests, type ListenerRole, type RouteContext } from './http-routes.js'
import { Readiness } from './readiness.js'
import { fullGc, startMemoryReclaim } from './memory-reclaim.js'
import { readSchemasFile, readWebhooksFile } from './service-files.js'

/** A running relay server. */
export interface RunningRelay {
  readonly port: number
  readonly url: string
  /** The admin listener's URL (`--admin-port`), or null when the operator routes share `url`. */
  readonly adminUrl: string | null
  /** Stops accepting, closes sockets, flushes writes, closes the store. */
  close(): Promise<void>
}

/** How long `/readyz` waits for PostgreSQL to answer before calling the store unreachable. */
const PROBE_TIMEOUT_MS = 500

/** How `/readyz` names each `--store`. */
const STORE_NAMES: Readonly<Record<RelayConfig['store'], string>> = {
  level: 'leveldb',
  postgres: 'postgres',
  memory: 'memory',
}

/** The store `--store` names: LevelDB in `--data`, PostgreSQL at `--postgres-url`, or memory. */
const openStore = async (config: RelayConfig, keys: EncryptionKey[] | null): Promise<DocStore> => {
  const historyMs = config['history-ms']
  const encryption = keys === null ? {} : { encryption: { keys } }
  switch (config.store) {
    case 'memory':
      return new MemoryStore({ historyMs })
    case 'postgres':
      return PostgresStore.open({ url: config['postgres-url'] ?? '', historyMs, ...encryption })
    case 'level':
      return LevelStore.open({ path: config.data, sync: config.sync, historyMs, ...encryption })
  }
}

/** Event-loop delay of this process, sampled every 10 ms, for `/stats`. */
const lag = monitorEventLoopDelay({ resolution: 10 })
lag.enable()

/** Opens the store, starts the relay and listens on `config.host:config.port`. */
export const startRelayServer = async (
  config: RelayConfig,
  logger: Logger,
): Promise<RunningRelay> => {
  const keysFile = config['encryption-keys-file']
  const keys = keysFile === undefined ? null : await readEncryptionKeys(keysFile)
  const tls = await readTls(config)
  const schemasPath = config['schemas-file']
  const schemas = schemasPath === undefined ? [] : await readSchemasFile(schemasPath)
  const webhooksPath = config['webhooks-file']
  const endpoints = webhooksPath === undefined ? [] : await readWebhooksFile(webhooksPath)
  const store = await openStore(config, keys)
  const redisUrl = config['redis-url']
  const bus = redisUrl === undefined ? null : new RedisBus({ url: redisUrl, logger })
  const busState = (): 'up' | 'down' | 'off' => (bus === null ? 'off' : bus.up ? 'up' : 'down')
  const prometheus = createRelayPrometheus({
    connections: () => relay.connectionCount,
    rooms: () => relay.roomCount,
    dataDir: config.store === 'level' ? config.data : null,
    busUp: bus === null ? null : () => bus.up,
    collections: schemas.flatMap(({ schema }) => Object.keys(schema.collections)),
    ready: async () => (await readiness.check()).ready,
    drift: () => relay.drift(),
    feedConsumers: () => relay.feed.consumers.list(),
  })
  const readiness = new Readiness(store, {
    storeName: STORE_NAMES[config.store],
    ...(store instanceof PostgresStore ? { probe: () => store.ping(PROBE_TIMEOUT_MS) } : {}),
    // Without Redis this relay still serves its own clients (and catches up once it returns):
    // taking it out of the load balancer would only move them to relays that lost it too.
    ...(bus === null ? {} : { bus: { name: 'redis', up: () => bus.up } }),
  })
  const relay: Relay = new Relay({
    store,
    auth: await authenticator(config),
    logger,
    metrics: {
      ...prometheus.metrics,
      persisted: (entries, bytes, seconds) => {
        readiness.written()
        prometheus.metrics.persisted(entries, bytes, seconds)
      },
      storageFailed: () => {
        readiness.failed()
        prometheus.metrics.storageFailed()
      },
    },
    maxMessageBytes: config['max-message-bytes'],
    maxDocBytes: config['max-doc-bytes'],
    maxBufferedBytes: config['max-buffered-bytes'],
    compressFromBytes: config['compress-from-bytes'] === 0 ? null : config['compress-from-bytes'],
    maxDocsPerSocket: config['max-docs-per-socket'],
    maxMessagesPerSecond: config['max-messages-per-sec'],
    maxBytesPerSecond: config['max-bytes-per-sec'],
    maxConnectionsPerAddress: config['max-connections-per-address'],
    maxHeaderBytes: config['max-header-bytes'],
    allowedOrigins: config['allowed-origins'] ?? null,
    presenceClaims: config['presence-claims'] ?? null,
    trustedProxies: config['trusted-proxies'],
    maxQueuedBytes: config['max-queued-bytes'],
    helloTimeoutMs: config['hello-timeout-ms'],
    maxPreAuthMessages: config['max-pre-auth-messages'],
    maxPreAuthBytes: config['max-pre-auth-bytes'],
    heartbeatIntervalMs: config['heartbeat-interval-ms'],
    unloadGraceMs: config['unload-grace-ms'],
    compactAfterUpdates: config['compact-after-updates'],
    compactAfterBytes: config['compact-after-bytes'],
    schemas,
    bus,
  })
  let webhooks: WebhookDispatcher
  try {
    webhooks = new WebhookDispatcher({
      feed: relay.feed,
      store,
      endpoints,
      logger,
      onEvent: (event) => prometheus.webhook(event),
    })
  } catch (error) {
    await relay.close()
    await bus?.close()
    await store.close()
    throw new Error(`--webhooks-file ${webhooksPath}: ${(error as Error).message}`)
  }
  await webhooks.start()
  prometheus.watchWebhooks(relay.feed, webhooks)
  const reclaim = config['reclaim-memory']
    ? startMemoryReclaim(
        {
          rooms: () => relay.roomCount,
          collect: fullGc(),
          minUnloaded: 100,
          maxRemainingFraction: 0.5,
          collected: (before, after) =>
            logger.debug('memory reclaimed after documents unloaded', {
              heapUsedBefore: before,
              heapUsedAfter: after,
            }),
        },
        5_000,
      )
    : null
  const stats = (reset: boolean): Record<string, unknown> => {
    const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage()
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100
    const document = {
      connections: relay.connectionCount,
      rooms: relay.roomCount,
      redis: busState(),
      rssBytes: rss,
      heapUsedBytes: heapUsed,
      heapTotalBytes: heapTotal,
      externalBytes: external,
      arrayBufferBytes: arrayBuffers,
      eventLoopLagMs: {
        p50: ms(lag.percentile(50)),
        p99: ms(lag.percentile(99)),
        max: ms(lag.max),
      },
    }
    if (reset) lag.reset()
    return document
  }
  const api = createHttpApi(relay, {
    maxBodyBytes: config['max-message-bytes'],
    adminToken: config['admin-token'],
    webhooks,
    maxRequestsPerSecond: config['max-requests-per-sec'],
  })
  const context: RouteContext = {
    api,
    readiness,
    stats,
    metrics: () => prometheus.registry.metrics(),
    metricsType: prometheus.registry.contentType,
    staticDir: config['static-dir'],
    opsToken: config['metrics-auth'] === 'admin-token' ? (config['admin-token'] ?? null) : null,
  }
  const adminPort = config['admin-port']
  const serve = (role: ListenerRole): Server | HttpsServer => {
    const handle = routeRequests(context, role)
    return tls === null ? createServer(handle) : createHttpsServer(tls, handle)
  }
  const server = serve(adminPort === undefined ? 'all' : 'public')
  server.on('upgrade', (request, socket, head) => relay.handleUpgrade(request, socket, head))
  await listen(server, config.port, config.host)
  const adminServer = adminPort === undefined ? null : serve('admin')
  if (adminServer !== null) {
    await listen(adminServer, adminPort ?? 0, config['admin-host']).catch(
      async (error: unknown) => {
        server.close()
        await webhooks.close()
        await relay.close()
        await bus?.close()
        await store.close()
        throw new Error(`--admin-port ${adminPort}: ${(error as Error).message}`, { cause: error })
      },
    )
  }
  const { port } = server.address() as AddressInfo
  const scheme = tls === null ? 'http' : 'https'
  const url = `${scheme}://${hostOf(config.host)}:${port}`
  const adminUrl =
    adminServer === null
      ? null
      : `${scheme}://${hostOf(config['admin-host'])}:${(adminServer.address() as AddressInfo).port}`
  logger.info('relay listening', {
    port,
    url,
    ws: url.replace('http', 'ws'),
    store: config.store,
    data: config.data,
    redis: bus !== null,
    tls: tls !== null,
    encryptionKey: keys?.at(-1)?.id ?? null,
    adminUrl,
  })
  let closing: Promise<void> | null = null
  return {
    port,
    url,
    adminUrl,
    close: () =>
      (closing ??= (async () => {
        readiness.stopAccepting()
        reclaim?.stop()
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()))
        const adminStopped = new Promise<void>((resolve) =>
          adminServer === null ? resolve() : adminServer.close(() => resolve()),
        )
        await webhooks.close()
        await relay.close()
        server.closeAllConnections()
        adminServer?.closeAllConnections()
        await stopped
        await adminStopped
        await bus?.close()
        await store.close()
        logger.info('relay stopped')
      })()),
  }
}

/** Listens on `host:port`; rejects when it cannot (port taken, no such interface). */
const listen = (server: Server | HttpsServer, port: number, host: string): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })

/** The host of a URL for a bound interface: `0.0.0.0` is reached as `localhost`. */
const hostOf = (host: string): string => (host === '0.0.0.0' ? 'localhost' : host)

/**
 * Reads an `--encryption-keys-file`: JSON `{ "keys": [{ "id": "…", "key": "<base64>" }, …] }`,
 * each key 32 bytes in standard base64. Throws an error naming the file and the entry, never
 * showing key material; `LevelStore.open` checks the ids and lengths again.
 */
export const readEncryptionKeys = async (file: string): Promise<EncryptionKey[]> => {
  const bad = (problem: string, cause?: unknown): Error =>
    new Error(`--encryption-keys-file ${file}: ${problem}`, cause === undefined ? {} : { cause })
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (cause) {
    throw bad('cannot be read', cause)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    // No cause: a JSON syntax error quotes the text around it, which may be key material.
    throw bad('is not valid JSON')
  }
  const entries = (parsed as { keys?: unknown } | null)?.keys
  if (!Array.isArray(entries) || entries.length === 0) {
    throw bad('needs { "keys": [{ "id": "…", "key": "<base64 of 32 bytes>" }, …] }')
  }
  return entries.map((entry: unknown, index): EncryptionKey => {
    const { id, key } = (entry ?? {}) as { id?: unknown; key?: unknown }
    if (typeof id !== 'string') throw bad(`keys[${index}].id must be a string`)
    const bytes = typeof key === 'string' ? Buffer.from(key, 'base64') : null
    // Buffer.from skips characters that are not base64; re-encoding shows whether any were.
    if (bytes === null || bytes.toString('base64') !== key || bytes.length !== 32) {
      throw bad(`keys[${index}].key (id "${id}") must be 32 bytes in standard base64`)
    }
    return { id, key: new Uint8Array(bytes) }
  })
}

/** The certificate and key of `--tls-cert-file` and `--tls-key-file`, or null without TLS. */
const readTls = async (config: RelayConfig): Promise<{ cert: string; key: string } | null> => {
  const certFile = config['tls-cert-file']
  const keyFile = config['tls-key-file']
  // parseCommand accepts both or neither.
  if (certFile === undefined || keyFile === undefined) return null
  const read = (option: string, file: string): Promise<string> =>
    readFile(file, 'utf8').catch((cause: unknown) => {
      throw new Error(`--${option} ${file} cannot be read`, { cause })
    })
  return { cert: await read('tls-cert-file', certFile), key: await read('tls-key-file', keyFile) }
}

/** The authenticator the options describe (they were checked together by `parseCommand`). */
const authenticator = async (config: RelayConfig): Promise<Authenticator> => {
  if (config.auth !== 'jwt') return openAuth()
  const common = {
    clockToleranceSec: config['jwt-clock-tolerance-sec'],
    ...(config['jwt-issuer'] !== undefined ? { issuer: config['jwt-issuer'] } : {}),
    ...(config['jwt-audience'] !== undefined ? { audience: config['jwt-audience'] } : {}),
  }
  if (config['jwt-secret'] !== undefined) {
    const extra = config['jwt-extra-secret']
    return jwtAuth({
      ...common,
      secret: extra === undefined ? config['jwt-secret'] : [config['jwt-secret'], extra],
    })
  }
  if (config['jwks-url'] !== undefined) return jwtAuth({ ...common, jwksUrl: config['jwks-url'] })
  const file = config['jwt-public-key-file'] as string
  return jwtAuth({
    ...common,
    publicKey: await readFile(file, 'utf8'),
    algorithm: config['jwt-algorithm'],
  })
}
