/** Reads Weft's relay's own figures from `GET /stats` (connections, rooms, memory, event-loop lag). */
import { get } from 'node:http'

/** What the relay reports at `/stats` (the fields the benchmark uses). */
export interface RelayStats {
  readonly connections: number
  readonly rooms: number
  readonly rssBytes: number
  readonly heapUsedBytes: number
  /** V8 heap committed (used and free). */
  readonly heapTotalBytes: number
  /** Memory of JavaScript objects held outside the V8 heap (buffers and the like). */
  readonly externalBytes: number
  /** Event-loop delay since the start or the last `?reset`, in ms. */
  readonly eventLoopLagMs: { readonly p50: number; readonly p99: number; readonly max: number }
}

/**
 * Fetches `/stats` from the relay on `port`; with `reset`, the relay restarts its event-loop lag
 * histogram after answering (so the next read covers only what happened in between).
 */
export const relayStats = (port: number, reset = false): Promise<RelayStats> =>
  new Promise((resolve, reject) => {
    const path = reset ? '/stats?reset' : '/stats'
    const request = get({ host: '127.0.0.1', port, path }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (body += chunk))
      response.once('end', () => {
        if (response.statusCode !== 200) {
          reject(new Error(`GET ${path} answered ${response.statusCode}`))
          return
        }
        resolve(JSON.parse(body) as RelayStats)
      })
    })
    request.once('error', reject)
    request.setTimeout(10_000, () => request.destroy(new Error(`GET ${path} timed out`)))
  })

/** Mebibytes from bytes. */
export const mib = (bytes: number): number => bytes / (1024 * 1024)
