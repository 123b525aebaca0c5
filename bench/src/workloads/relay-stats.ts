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

/** Reads counter `name` (without labels) from the relay's `GET /metrics`; 0 when it is absent. */
export const relayCounter = async (port: number, name: string): Promise<number> => {
  const body = await relayMetricsText(port)
  const line = new RegExp(`^${name} (\\S+)$`, 'm').exec(body)
  return line === null ? 0 : Number(line[1])
}

/** The relay's `GET /metrics` page. */
const relayMetricsText = (port: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const request = get({ host: '127.0.0.1', port, path: '/metrics' }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (body += chunk))
      response.once('end', () => {
        if (response.statusCode !== 200)
          reject(new Error(`GET /metrics answered ${response.statusCode}`))
        else resolve(body)
      })
    })
    request.once('error', reject)
    request.setTimeout(10_000, () => request.destroy(new Error('GET /metrics timed out')))
  })

/** A Prometheus histogram as the relay exposes it: cumulative counts by upper bound (seconds). */
export interface HistogramBuckets {
  readonly bounds: readonly number[]
  readonly counts: readonly number[]
}

/** Reads histogram `name` from the relay's `GET /metrics` (without labels). */
export const relayHistogram = async (port: number, name: string): Promise<HistogramBuckets> => {
  const body = await relayMetricsText(port)
  const bounds: number[] = []
  const counts: number[] = []
  const pattern = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, 'gm')
  for (const [, le, count] of body.matchAll(pattern)) {
    bounds.push(le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le))
    counts.push(Number(count))
  }
  return { bounds, counts }
}

/**
 * The upper bound (ms) of the bucket holding quantile `q` of what `after` counted beyond
 * `before`, or `null` when nothing was counted.
 */
export const histogramQuantileMs = (
  before: HistogramBuckets,
  after: HistogramBuckets,
  q: number,
): number | null => {
  const counts = after.counts.map((count, index) => count - (before.counts[index] ?? 0))
  const total = counts.at(-1) ?? 0
  if (total === 0) return null
  const index = counts.findIndex((count) => count >= q * total)
  return (after.bounds[index] ?? Number.POSITIVE_INFINITY) * 1000
}
