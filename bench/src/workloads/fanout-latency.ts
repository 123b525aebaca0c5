/** Turns the fan-out agents' send and arrival times into latency percentiles and delivery counts. */
import type { FanoutRunResult } from '../agents/roles/fanout.js'
import { latencySummary } from '../stats.js'

/** Fan-out figures of one run. */
export interface FanoutFigures {
  /** Latency until every other client has seen an edit: over edits seen by all. */
  readonly allP50Ms: number
  readonly allP95Ms: number
  readonly allP99Ms: number
  readonly allMaxMs: number
  /** Latency of single deliveries (edit → one other client). */
  readonly deliveryP50Ms: number
  readonly deliveryP99Ms: number
  readonly deliveredPct: number
  readonly deliveredPerSec: number
  readonly edits: number
}

/** Combines the results of every fan-out agent (`editsPerClient` edits from each of `clients`). */
export const fanoutFigures = (
  results: readonly FanoutRunResult[],
  clients: number,
  editsPerClient: number,
): FanoutFigures => {
  const edits = clients * editsPerClient
  const sentAt = new Float64Array(edits).fill(Number.NaN)
  const arrivals: Array<{ client: number; at: Float64Array }> = []
  for (const result of results) {
    result.sentAt.forEach((at, id) => {
      if (!Number.isNaN(at)) sentAt[id] = at
    })
    result.clients.forEach((client, slot) => arrivals.push({ client, at: result.arrivedAt[slot]! }))
  }
  const seenByAll: number[] = []
  const deliveries: number[] = []
  let firstSend = Number.POSITIVE_INFINITY
  let lastArrival = Number.NEGATIVE_INFINITY
  for (let id = 0; id < edits; id++) {
    const sender = Math.floor(id / editsPerClient)
    const sent = sentAt[id]!
    if (Number.isNaN(sent)) continue
    firstSend = Math.min(firstSend, sent)
    let slowest = 0
    let missing = false
    for (const { client, at } of arrivals) {
      if (client === sender) continue
      const arrived = at[id]!
      if (Number.isNaN(arrived)) {
        missing = true
        continue
      }
      deliveries.push(arrived - sent)
      slowest = Math.max(slowest, arrived - sent)
      lastArrival = Math.max(lastArrival, arrived)
    }
    if (!missing) seenByAll.push(slowest)
  }
  const all = latencySummary(seenByAll)
  const single = latencySummary(deliveries)
  const expected = edits * (clients - 1)
  const spanMs = lastArrival - firstSend
  return {
    allP50Ms: all.p50,
    allP95Ms: all.p95,
    allP99Ms: all.p99,
    allMaxMs: all.max,
    deliveryP50Ms: single.p50,
    deliveryP99Ms: single.p99,
    deliveredPct: expected === 0 ? 100 : (100 * deliveries.length) / expected,
    deliveredPerSec: spanMs > 0 ? (1000 * deliveries.length) / spanMs : Number.NaN,
    edits,
  }
}
