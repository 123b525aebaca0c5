/**
 * Starts the y-websocket reference server (`@y/websocket-server`, its bin `src/server.js`) with
 * LevelDB persistence (`YPERSISTENCE`, through y-leveldb) as a child process on loopback.
 */
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { spawnServer, type ServerProcess } from './server-process.js'

const require = createRequire(import.meta.url)
/** The package's bin, found through its exported package.json. */
const SERVER_BIN = join(
  dirname(require.resolve('@y/websocket-server/package.json')),
  'src/server.js',
)

/** A port that was free a moment ago (the bin takes PORT from the environment, not 0). */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      probe.close(() => resolve(port))
    })
  })

/** Spawns `node src/server.js` with `HOST=127.0.0.1 PORT=<free> YPERSISTENCE=<dataDir>/leveldb`. */
export const startYWebsocketServer = async (dataDir: string): Promise<ServerProcess> => {
  const port = await freePort()
  return spawnServer({
    kind: 'y-websocket-server',
    args: [SERVER_BIN],
    env: { HOST: '127.0.0.1', PORT: String(port), YPERSISTENCE: join(dataDir, 'leveldb') },
    dataDir,
    tsx: false,
    ready: /running at '127\.0\.0\.1' on port (\d+)/,
    port,
  })
}
