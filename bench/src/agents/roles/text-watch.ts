/** The reader side of trace workloads: wait for an exact text, cold-load, read back after a crash. */
import type * as Y from 'yjs'
import { deadline, nowMs } from '../../clock.js'
import { ownCpuMs } from '../../proc-metrics.js'
import type { ClientKind } from '../../systems.js'
import type { BenchDoc } from '../bench-doc.js'
import { openDoc, TEXT_NAME } from '../open-doc.js'
import { textAt, type TextPlace } from '../text-place.js'
import { currentDoc } from './doc-session.js'
import type { Methods } from './methods.js'
import { analyzeRecovered } from './recovered-text.js'
import { loadedText } from './trace-store.js'

/** Resolves with the time at which `bench`'s text at `place` first equals `expected` exactly. */
const untilText = (bench: BenchDoc, expected: string, place: TextPlace = 'root'): Promise<number> =>
  new Promise((resolve) => {
    let text: Y.Text | null = null
    const check = (): void => {
      // The paper record may arrive after the wait began: look for it until it is there.
      text ??= textAt(bench.doc, place)
      if (text === null || text.length !== expected.length || text.toString() !== expected) return
      bench.doc.off('afterTransaction', check)
      resolve(nowMs())
    }
    bench.doc.on('afterTransaction', check)
    check()
  })

/** Parameters of `text.waitFor`. */
export interface WaitParams {
  readonly timeoutMs: number
  /** SIGKILL this pid the moment the text is complete (workload 4 for systems without acks). */
  readonly killPidOnDone?: number
  /** Where the text is. Default `root`. */
  readonly text?: TextPlace
}

/** Parameters of `text.coldLoad`. */
export interface ColdLoadParams {
  readonly kind: ClientKind
  readonly url: string
  readonly name: string
  readonly timeoutMs: number
}

/** What `text.coldLoad` reports: times on the shared clock, and the text length at "synced". */
export interface ColdLoadResult {
  readonly openAt: number
  readonly syncedAt: number | null
  readonly lengthAtSynced: number | null
  readonly doneAt: number | null
  readonly finalLength: number
  readonly expectedLength: number
}

const coldLoad = async (params: ColdLoadParams): Promise<ColdLoadResult> => {
  const expected = loadedText()
  const openAt = nowMs()
  const bench = openDoc(params.kind, params.url, params.name)
  const text = bench.doc.getText(TEXT_NAME)
  let syncedAt: number | null = null
  let lengthAtSynced: number | null = null
  void bench.whenSynced().then(() => {
    syncedAt = nowMs()
    lengthAtSynced = text.length
  })
  const doneAt = await deadline(untilText(bench, expected), params.timeoutMs, 'cold load').catch(
    () => null,
  )
  const finalLength = text.length
  await bench.close()
  return { openAt, syncedAt, lengthAtSynced, doneAt, finalLength, expectedLength: expected.length }
}

/** Resolves once `bench`'s text has not changed for `quietMs` (or after `timeoutMs`). */
const untilQuiet = (bench: BenchDoc, quietMs: number, timeoutMs: number): Promise<void> =>
  new Promise((resolve) => {
    let timer = setTimeout(finish, quietMs)
    const cap = setTimeout(finish, timeoutMs)
    function finish(): void {
      clearTimeout(timer)
      clearTimeout(cap)
      bench.doc.off('afterTransaction', onChange)
      resolve()
    }
    function onChange(): void {
      clearTimeout(timer)
      timer = setTimeout(finish, quietMs)
    }
    bench.doc.on('afterTransaction', onChange)
  })

export const textWatchMethods: Methods = {
  'text.waitFor': async (params) => {
    const { timeoutMs, killPidOnDone, text } = params as WaitParams
    const expected = loadedText()
    const cpuBefore = ownCpuMs()
    const doneAt = await deadline(untilText(currentDoc(), expected, text), timeoutMs, 'reader')
    if (killPidOnDone !== undefined) process.kill(killPidOnDone, 'SIGKILL')
    return { doneAt, cpuMs: ownCpuMs() - cpuBefore }
  },
  'text.coldLoad': (params) => coldLoad(params as ColdLoadParams),
  /** After the text has been quiet for `quietMs`: how it compares with the trace (workload 4). */
  'text.analyze': async (params) => {
    const { writerClientId, quietMs } = params as {
      writerClientId: number
      quietMs: number
    }
    const bench = currentDoc()
    await untilQuiet(bench, quietMs, 60_000)
    return analyzeRecovered(bench.doc, writerClientId)
  },
}
