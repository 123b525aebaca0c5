/** A lag probe from outside the relay: sequential `GET /healthz` round trips on a kept-alive socket. */
import { Agent, get } from 'node:http'
import { delay, nowMs } from '../clock.js'
import { latencySummary } from '../stats.js'

/** Round-trip percentiles in ms, and how many probes were sent. */
export interface ProbeSummary {
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  readonly probes: number
}

const roundTrip = (agent: Agent, port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    const started = nowMs()
    const request = get({ host: '127.0.0.1', port, path: '/healthz', agent }, (response) => {
      response.resume()
      response.once('end', () => resolve(nowMs() - started))
    })
    request.once('error', reject)
    request.setTimeout(10_000, () => request.destroy(new Error('probe timed out')))
  })

/**
 * Probes every `intervalMs` for `durationMs`. Each round trip waits for the relay's event loop,
 * so its tail approximates the relay's event-loop lag (plus a small HTTP cost, see the baseline).
 */
export const probeRoundTrips = async (
  port: number,
  durationMs: number,
  intervalMs = 20,
): Promise<ProbeSummary> => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const samples: number[] = []
  const until = nowMs() + durationMs
  try {
    while (nowMs() < until) {
      samples.push(await roundTrip(agent, port))
      await delay(intervalMs)
    }
  } finally {
    agent.destroy()
  }
  const summary = latencySummary(samples)
  return { p50Ms: summary.p50, p99Ms: summary.p99, maxMs: summary.max, probes: samples.length }
}
