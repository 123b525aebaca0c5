/** Idle Weft connections: clients that connect (hello/welcome), open nothing, and heartbeat. */
import { createClient, type WeftClient } from '@weft/client'
import { deadline, nowMs } from '../../clock.js'
import { ProxiedWebSocket } from '../bench-doc.js'
import type { Methods } from './methods.js'

/** Parameters of `idle.connect`. */
export interface IdleParams {
  readonly url: string
  readonly count: number
  readonly concurrency: number
  readonly heartbeatIntervalMs: number
  readonly perClientTimeoutMs: number
}

const clients: WeftClient[] = []

const connected = (client: WeftClient): boolean => client.status.state === 'synced'

const connectOne = (params: IdleParams): Promise<void> => {
  const client = createClient({
    url: params.url,
    WebSocket: ProxiedWebSocket as never,
    clientName: 'weft-bench-idle',
    heartbeatIntervalMs: params.heartbeatIntervalMs,
  })
  clients.push(client)
  return deadline(
    new Promise<void>((resolve) => {
      if (connected(client)) return resolve()
      const onStatus = (): void => {
        if (!connected(client)) return
        client.off('status', onStatus)
        resolve()
      }
      client.on('status', onStatus)
    }),
    params.perClientTimeoutMs,
    'connection',
  )
}

export const idleConnectionMethods: Methods = {
  'idle.connect': async (params) => {
    const idle = params as IdleParams
    const startAt = nowMs()
    let next = 0
    let failed = 0
    const lane = async (): Promise<void> => {
      while (next++ < idle.count) await connectOne(idle).catch(() => failed++)
    }
    await Promise.all(Array.from({ length: idle.concurrency }, lane))
    return { startAt, doneAt: nowMs(), failed }
  },
  /** How many clients are connected right now. */
  'idle.count': async () => clients.filter(connected).length,
  'idle.closeAll': async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()))
    return null
  },
}
