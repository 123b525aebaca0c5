/** Starts Weft's relay (apps/relay) as a child process on a free loopback port. */
import { fileURLToPath } from 'node:url'
import { spawnServer, type ServerProcess } from './server-process.js'

/** Relay flags a workload may set; everything else stays at the relay's defaults. */
export interface WeftRelayOptions {
  /** fsync each write group before acknowledging (`--sync`, default true). */
  readonly sync?: boolean
  readonly unloadGraceMs?: number
  readonly heartbeatIntervalMs?: number
  /** Store documents in this PostgreSQL database (`--store postgres --postgres-url`) instead of LevelDB. */
  readonly postgresUrl?: string
  /** Share updates and presence with other relays over this Redis (`--redis-url`; needs `postgresUrl`). */
  readonly redisUrl?: string
  /** Documents' schemas and record rules (`--schemas-file`): the relay checks every write to them. */
  readonly schemasFile?: string
  /**
   * Verify tokens with this HS256 secret (`--auth jwt`, the secret in `WEFT_JWT_SECRET`) instead
   * of `--auth open`: record rules judge only writers with a verified token.
   */
  readonly jwtSecret?: string
  /** `--compress-from-bytes` (0: never compress); the relay's default when absent. */
  readonly compressFromBytes?: number
}

/** The relay's entry point; run as a program, not imported (apps are not libraries). */
export const RELAY_MAIN = fileURLToPath(new URL('../../../apps/relay/src/main.ts', import.meta.url))

let profileArgs: string[] = []

/** Every relay started from now on writes a V8 CPU profile into `dir` (`--profile-relay`). */
export const profileRelayInto = (dir: string): void => {
  profileArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`]
}

/** Whether relays write CPU profiles (they must then exit by themselves to write them). */
export const relayProfiled = (): boolean => profileArgs.length > 0

/** Spawns `node --import tsx apps/relay/src/main.ts --port 0 --data <dataDir> …`. */
export const startWeftRelay = (
  dataDir: string,
  options: WeftRelayOptions = {},
): Promise<ServerProcess> => {
  const args = [
    ...profileArgs,
    RELAY_MAIN,
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--data',
    dataDir,
    '--auth',
    options.jwtSecret === undefined ? 'open' : 'jwt',
    // Every limit at its default: the clients name their own addresses through X-Forwarded-For
    // (see ProxiedWebSocket), which the relay believes from loopback by default.
  ]
  // The start line ("relay listening") is logged at info; nothing per update is.
  args.push('--log-level', 'info')
  if (options.sync !== undefined) args.push('--sync', String(options.sync))
  if (options.unloadGraceMs !== undefined) {
    args.push('--unload-grace-ms', String(options.unloadGraceMs))
  }
  if (options.heartbeatIntervalMs !== undefined) {
    args.push('--heartbeat-interval-ms', String(options.heartbeatIntervalMs))
  }
  if (options.postgresUrl !== undefined) {
    args.push('--store', 'postgres', '--postgres-url', options.postgresUrl)
  }
  if (options.redisUrl !== undefined) args.push('--redis-url', options.redisUrl)
  if (options.schemasFile !== undefined) args.push('--schemas-file', options.schemasFile)
  if (options.compressFromBytes !== undefined) {
    args.push('--compress-from-bytes', String(options.compressFromBytes))
  }
  return spawnServer({
    kind: 'weft',
    args,
    // The secret goes in the environment, as the relay advises, not on the command line.
    ...(options.jwtSecret === undefined ? {} : { env: { WEFT_JWT_SECRET: options.jwtSecret } }),
    dataDir,
    tsx: true,
    ready: /"port":(\d+)[^\n]*"msg":"relay listening"/,
  })
}
