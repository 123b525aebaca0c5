/** The trace writer: replays the trace one patch per transaction as fast as the socket allows. */
import { delay, deadline, nextTurn, nowMs } from '../../clock.js'
import { ownCpuMs } from '../../proc-metrics.js'
import { textAt, type TextPlace } from '../text-place.js'
import { currentDoc } from './doc-session.js'
import type { Methods } from './methods.js'
import { applyPatch, loadedPatches } from './trace-store.js'

/** Parameters of `trace.write`. */
export interface WriteParams {
  /** Yield to the event loop after this many patches so the client can send and receive. */
  readonly yieldEvery: number
  /** While the socket buffers more than this many bytes, wait before applying more patches. */
  readonly highWaterBytes: number
  /** Wait until the server confirms everything (Weft: `saved`), then report when. */
  readonly waitConfirmed: boolean
  /** SIGKILL this pid the moment everything is confirmed (workload 4). */
  readonly killPidOnConfirmed?: number
  readonly timeoutMs: number
  /** Where the text is replayed. Default `root`. */
  readonly text?: TextPlace
}

/** What `trace.write` reports (times on the shared monotonic clock, ms). */
export interface WriteResult {
  readonly startAt: number
  readonly writtenAt: number
  readonly confirmedAt: number | null
  readonly killedAt: number | null
  readonly cpuMs: number
  readonly finalLength: number
}

const write = async (params: WriteParams): Promise<WriteResult> => {
  const bench = currentDoc()
  const patches = loadedPatches()
  const text = textAt(bench.doc, params.text ?? 'root')
  if (text === null) throw new Error('trace.write: the document has no paper record to write into')
  const cpuBefore = ownCpuMs()
  const startAt = nowMs()
  for (let index = 0; index < patches.length; index++) {
    applyPatch(text, patches[index]!)
    if ((index + 1) % params.yieldEvery !== 0) continue
    await nextTurn()
    // Backpressure: let the socket drain below the high-water mark before producing more.
    while ((bench.socket()?.bufferedAmount ?? 0) > params.highWaterBytes) await delay(1)
  }
  const writtenAt = nowMs()
  let confirmedAt: number | null = null
  let killedAt: number | null = null
  if (params.waitConfirmed) {
    await bench.whenConfirmed()
    confirmedAt = nowMs()
    if (params.killPidOnConfirmed !== undefined) {
      process.kill(params.killPidOnConfirmed, 'SIGKILL')
      killedAt = nowMs()
    }
  }
  return {
    startAt,
    writtenAt,
    confirmedAt,
    killedAt,
    cpuMs: ownCpuMs() - cpuBefore,
    finalLength: text.length,
  }
}

export const traceWriterMethods: Methods = {
  'trace.write': (params) => {
    const writeParams = params as WriteParams
    return deadline(write(writeParams), writeParams.timeoutMs, 'trace.write')
  },
}
