/**
 * Document churn: at a steady rate, a fresh client opens a document (a new one, or one opened a
 * while ago and closed since), makes one edit, waits until the server confirmed it, and closes.
 */
import { deadline, delay, nowMs } from '../../clock.js'
import { ownCpuMs } from '../../proc-metrics.js'
import type { ClientKind } from '../../systems.js'
import { openDoc, TEXT_NAME } from '../open-doc.js'
import type { Methods } from './methods.js'

/** Parameters of `churn.run`. */
export interface ChurnParams {
  readonly kind: ClientKind
  readonly url: string
  /** This agent's document names start with this. */
  readonly prefix: string
  /** Documents this agent opens per second, from `startAt` (shared clock) for `durationMs`. */
  readonly docsPerSec: number
  readonly startAt: number
  readonly durationMs: number
  /**
   * Every second document is the one this agent opened this long before (so it was closed and,
   * with the relay's unload grace shorter than this, unloaded since); the others are new.
   */
  readonly recycleAfterMs: number
  /** Documents in progress at once; a start that would exceed it waits (and counts as late). */
  readonly maxInFlight: number
  readonly perDocTimeoutMs: number
}

/** What `churn.run` reports (times on the shared clock). */
export interface ChurnResult {
  readonly done: number
  readonly recycled: number
  readonly failures: number
  readonly firstFailure: string | null
  /** Starts that waited for a free slot. */
  readonly late: number
  /** Open → synced → edited → confirmed → closed, of each document done, in ms. */
  readonly cycleMs: readonly number[]
  readonly lastCloseAt: number
  readonly cpuMs: number
}

/**
 * The name of this agent's document `i`: once `lag` documents have been opened, an odd `i`
 * reopens the one opened `lag` before it (`lag` is odd, so that one was new); the others are new.
 */
const nameOf = (params: ChurnParams, i: number, lag: number): string =>
  `${params.prefix}${i % 2 === 1 && i >= lag ? i - lag : i}`

const cycle = async (params: ChurnParams, name: string, i: number): Promise<number> => {
  const started = nowMs()
  const bench = openDoc(params.kind, params.url, name)
  try {
    await deadline(bench.whenSynced(), params.perDocTimeoutMs, `${name} did not sync`)
    bench.doc.getText(TEXT_NAME).insert(0, `edit ${i}; `)
    await deadline(bench.whenConfirmed(), params.perDocTimeoutMs, `${name} not confirmed`)
  } finally {
    await bench.close()
  }
  return nowMs() - started
}

const run = async (params: ChurnParams): Promise<ChurnResult> => {
  const intervalMs = 1000 / params.docsPerSec
  const count = Math.floor(params.durationMs / intervalMs)
  const lag = Math.round(params.recycleAfterMs / intervalMs) | 1
  const cpuBefore = ownCpuMs()
  const cycles: number[] = []
  const inFlight = new Set<Promise<void>>()
  let failures = 0
  let firstFailure: string | null = null
  let late = 0
  let recycled = 0
  let lastCloseAt = nowMs()
  for (let i = 0; i < count; i++) {
    await delay(params.startAt + i * intervalMs - nowMs())
    if (inFlight.size >= params.maxInFlight) {
      late++
      while (inFlight.size >= params.maxInFlight) await Promise.race(inFlight)
    }
    const name = nameOf(params, i, lag)
    if (name !== `${params.prefix}${i}`) recycled++
    const work = cycle(params, name, i).then(
      (ms) => void cycles.push(ms),
      (error: unknown) => {
        failures++
        firstFailure ??= (error as Error).message
      },
    )
    const tracked: Promise<void> = work.finally(() => {
      inFlight.delete(tracked)
      lastCloseAt = nowMs()
    })
    inFlight.add(tracked)
  }
  await Promise.all(inFlight)
  return {
    done: cycles.length,
    recycled,
    failures,
    firstFailure,
    late,
    cycleMs: cycles,
    lastCloseAt,
    cpuMs: ownCpuMs() - cpuBefore,
  }
}

export const churnMethods: Methods = {
  'churn.run': (params) => run(params as ChurnParams),
}
