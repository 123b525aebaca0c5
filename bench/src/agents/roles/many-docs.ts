/** Many documents: one client per document, each opening it, making one edit and staying open. */
import { deadline, nowMs } from '../../clock.js'
import { ownCpuMs } from '../../proc-metrics.js'
import type { ClientKind } from '../../systems.js'
import type { BenchDoc } from '../bench-doc.js'
import { openDoc, TEXT_NAME } from '../open-doc.js'
import type { Methods } from './methods.js'

/** Parameters of `manyDocs.run`. */
export interface ManyDocsParams {
  readonly kind: ClientKind
  readonly url: string
  readonly names: readonly string[]
  /** Documents in progress at once in this agent. */
  readonly concurrency: number
  readonly perDocTimeoutMs: number
}

/** What `manyDocs.run` reports (times on the shared clock). */
export interface ManyDocsResult {
  readonly startAt: number
  readonly doneAt: number
  readonly done: number
  readonly failures: readonly string[]
  readonly cpuMs: number
}

/** The text each document's one edit inserts. */
export const editFor = (name: string): string => `edit of ${name}`

const open: BenchDoc[] = []

/** Opens, waits for synced, edits, waits until the server confirmed the edit; stays open. */
const oneDoc = async (params: ManyDocsParams, name: string): Promise<void> => {
  const bench = openDoc(params.kind, params.url, name)
  open.push(bench)
  await deadline(bench.whenSynced(), params.perDocTimeoutMs, `${name} did not sync`)
  bench.doc.getText(TEXT_NAME).insert(0, editFor(name))
  await deadline(bench.whenConfirmed(), params.perDocTimeoutMs, `${name} not confirmed`)
}

const run = async (params: ManyDocsParams): Promise<ManyDocsResult> => {
  const cpuBefore = ownCpuMs()
  const startAt = nowMs()
  const failures: string[] = []
  let next = 0
  let done = 0
  const lane = async (): Promise<void> => {
    while (next < params.names.length) {
      const name = params.names[next++]!
      try {
        await oneDoc(params, name)
        done++
      } catch (error) {
        failures.push((error as Error).message)
      }
    }
  }
  await Promise.all(Array.from({ length: params.concurrency }, lane))
  return { startAt, doneAt: nowMs(), done, failures, cpuMs: ownCpuMs() - cpuBefore }
}

export const manyDocsMethods: Methods = {
  'manyDocs.run': (params) => run(params as ManyDocsParams),
  /** Every client leaves (closes its document and socket). */
  'manyDocs.closeAll': async () => {
    await Promise.all(open.splice(0).map((bench) => bench.close()))
    return nowMs()
  },
  /** Opens each document with a fresh client and counts those holding their edit. */
  'manyDocs.verify': async (params) => {
    const { kind, url, names, timeoutMs } = params as {
      kind: ClientKind
      url: string
      names: string[]
      timeoutMs: number
    }
    let ok = 0
    for (const name of names) {
      const bench = openDoc(kind, url, name)
      const text = bench.doc.getText(TEXT_NAME)
      const has = (): boolean => text.toString() === editFor(name)
      // Some servers report synced before loading from disk: wait for the text itself.
      await deadline(
        new Promise<void>((resolve) => {
          const check = (): void => {
            if (has()) resolve()
          }
          bench.doc.on('afterTransaction', check)
          check()
        }),
        timeoutMs,
        name,
      ).catch(() => undefined)
      if (has()) ok++
      await bench.close()
    }
    return ok
  },
}
