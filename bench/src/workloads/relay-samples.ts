/** Samples Weft's relay over time (RSS, open file descriptors, rooms, heap) and the growth between two windows. */
import { delay, nowMs } from '../clock.js'
import { countFds, readMemoryMb } from '../proc-metrics.js'
import { mib, relayStats } from './relay-stats.js'

/** One sample of the relay process (time on the shared clock). */
export interface RelaySample {
  readonly at: number
  readonly rssMb: number
  readonly fds: number
  readonly rooms: number
  readonly heapUsedMb: number
  readonly heapTotalMb: number
  readonly externalMb: number
}

/** Reads one sample of the relay with process id `pid` listening on `port`. */
export const sampleRelay = async (pid: number, port: number): Promise<RelaySample> => {
  const stats = await relayStats(port)
  return {
    at: nowMs(),
    rssMb: readMemoryMb(pid).rssMb,
    fds: countFds(pid),
    rooms: stats.rooms,
    heapUsedMb: mib(stats.heapUsedBytes),
    heapTotalMb: mib(stats.heapTotalBytes),
    externalMb: mib(stats.externalBytes),
  }
}

/** Samples every `everyMs` until `stop` settles; resolves with the samples once it has. */
export const sampleUntil = async (
  pid: number,
  port: number,
  everyMs: number,
  stop: Promise<unknown>,
): Promise<RelaySample[]> => {
  let stopped = false
  const settled = stop.then(
    () => (stopped = true),
    () => (stopped = true),
  )
  const samples: RelaySample[] = []
  while (!stopped) {
    const next = nowMs() + everyMs
    samples.push(await sampleRelay(pid, port))
    await Promise.race([delay(next - nowMs()), settled])
  }
  return samples
}

/** A sampled figure. */
export type SampleKey = Exclude<keyof RelaySample, 'at'>

/** The mean of `key` over the samples taken in [from, to), NaN when there are none. */
export const meanOver = (
  samples: readonly RelaySample[],
  key: SampleKey,
  from: number,
  to: number,
): number => {
  const values = samples.filter((s) => s.at >= from && s.at < to).map((s) => s[key])
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length
}

/** Growth from `before` to `after` in percent of `before`. */
export const growthPct = (before: number, after: number): number =>
  (100 * (after - before)) / before
