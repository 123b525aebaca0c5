/** Starts the server process of a system on a data directory. */
import type { ServerKind } from '../systems.js'
import { startHocuspocus } from './hocuspocus.js'
import type { ServerProcess } from './server-process.js'
import { startWeftRelay, type WeftRelayOptions } from './weft-relay.js'
import { startYWebsocketServer } from './y-websocket-server.js'

export type { ServerProcess } from './server-process.js'

/**
 * Starts a `kind` server storing into `dataDir`. `weft` options apply to Weft's relay only; the
 * peers run with their defaults.
 */
export const startServer = (
  kind: ServerKind,
  dataDir: string,
  weft: WeftRelayOptions = {},
): Promise<ServerProcess> => {
  switch (kind) {
    case 'weft':
      return startWeftRelay(dataDir, weft)
    case 'hocuspocus':
      return startHocuspocus(dataDir)
    case 'y-websocket-server':
      return startYWebsocketServer(dataDir)
  }
}
