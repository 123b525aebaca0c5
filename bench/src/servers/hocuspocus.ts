/** Starts Hocuspocus (with its SQLite extension) as a child process on a free loopback port. */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnServer, type ServerProcess } from './server-process.js'

const MAIN = fileURLToPath(new URL('./hocuspocus-main.ts', import.meta.url))

/** Spawns Hocuspocus storing into `<dataDir>/hocuspocus.sqlite`. */
export const startHocuspocus = (dataDir: string): Promise<ServerProcess> =>
  spawnServer({
    kind: 'hocuspocus',
    args: [MAIN, join(dataDir, 'hocuspocus.sqlite')],
    dataDir,
    tsx: true,
    ready: /"msg":"hocuspocus listening","port":(\d+)/,
  })
