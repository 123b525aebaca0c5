/** The systems compared: a server process and the client that talks to it. */

/** Which server process a system runs. */
export type ServerKind = 'weft' | 'hocuspocus' | 'y-websocket-server'
/** Which client library the agents use. */
export type ClientKind = 'weft' | 'y-websocket' | 'hocuspocus'

/** A column of the report. */
export interface System {
  readonly id: SystemId
  readonly label: string
  readonly server: ServerKind
  readonly client: ClientKind
  /** True for Weft's own columns (targets and ratios are about these). */
  readonly weft: boolean
}

/** Every system id. */
export type SystemId = 'weft-client' | 'weft-yws' | 'hocuspocus' | 'y-websocket-server'

/** The four systems, in report order. */
export const SYSTEMS: Readonly<Record<SystemId, System>> = {
  'weft-client': {
    id: 'weft-client',
    label: 'Weft (Weft client)',
    server: 'weft',
    client: 'weft',
    weft: true,
  },
  'weft-yws': {
    id: 'weft-yws',
    label: 'Weft (y-websocket provider)',
    server: 'weft',
    client: 'y-websocket',
    weft: true,
  },
  hocuspocus: {
    id: 'hocuspocus',
    label: 'Hocuspocus',
    server: 'hocuspocus',
    client: 'hocuspocus',
    weft: false,
  },
  'y-websocket-server': {
    id: 'y-websocket-server',
    label: 'y-websocket-server',
    server: 'y-websocket-server',
    client: 'y-websocket',
    weft: false,
  },
}

/** The systems a workload compares, without the peers when they are turned off. */
export const pickSystems = (ids: readonly SystemId[], peers: boolean): SystemId[] =>
  ids.filter((id) => peers || SYSTEMS[id].weft)
