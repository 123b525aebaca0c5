/** Workload 2's core (2/3, 4, 7, 12, 13): one writer replays the trace, one reader waits for it. */
import type { Agent } from '../agents/agent.js'
import type { WaitParams } from '../agents/roles/text-watch.js'
import type { WriteParams, WriteResult } from '../agents/roles/trace-writer.js'
import type { TextPlace } from '../agents/text-place.js'
import type { Sizes } from '../options.js'
import { CpuWindow, readMemoryMb } from '../proc-metrics.js'
import type { ServerProcess } from '../servers/start-server.js'
import type { System } from '../systems.js'
import { tracePatches, traceText } from '../trace-data.js'

/** The document the trace is replayed into. */
export const TRACE_DOC = 'automerge-paper'

/** How the replay ends. */
export type KillMode =
  /** Measure and leave the server running. */
  | 'none'
  /** SIGKILL the server the moment the writer has `saved` for everything (Weft client). */
  | 'on-saved'
  /** SIGKILL the server the moment the reader has the whole text (no acknowledgements). */
  | 'on-reader'

/** The outcome of one replay (times on the shared clock, ms). */
export interface TraceOutcome {
  readonly writerClientId: number
  readonly write: WriteResult
  /** When the reader had exactly the final text (null if it was not waited for). */
  readonly readerDoneAt: number | null
  readonly clientCpuMs: number
  readonly serverCpuMs: number
  readonly serverPeakRssMb: number
}

/** Trace replays are bounded: the peers took 13–19 s for the whole trace on this machine. */
export const traceTimeoutMs = (sizes: Sizes): number => 30_000 + sizes.tracePatches * 1.5

/** Sends the first `sizes.tracePatches` patches and their final text to each agent. */
export const sendTrace = async (agents: readonly Agent[], sizes: Sizes): Promise<void> => {
  const trace = {
    patches: tracePatches(sizes.tracePatches),
    expected: traceText(sizes.tracePatches),
  }
  await Promise.all(agents.map((agent) => agent.call('trace.load', trace)))
}

/** Opens the document in writer and reader, then replays the trace and measures. */
export const replayTrace = async (
  system: System,
  server: ServerProcess,
  writer: Agent,
  reader: Agent,
  sizes: Sizes,
  kill: KillMode,
): Promise<TraceOutcome> => {
  const open = { kind: system.client, url: server.url, name: TRACE_DOC }
  await sendTrace([writer, reader], sizes)
  const [{ clientId }] = await Promise.all([
    writer.call<{ clientId: number }>('doc.open', open),
    reader.call('doc.open', open),
  ])
  return measureReplay({
    server,
    writer,
    reader,
    sizes,
    kill,
    waitConfirmed: system.client === 'weft',
    writerClientId: clientId,
  })
}

/** What {@link measureReplay} needs: agents that have the trace and the document open. */
export interface ReplayParams {
  readonly server: ServerProcess
  readonly writer: Agent
  readonly reader: Agent
  readonly sizes: Sizes
  readonly kill: KillMode
  /** Wait for the server's confirmation of everything (Weft's client: `saved`). */
  readonly waitConfirmed: boolean
  readonly writerClientId: number
  /** Where the text is in the document. Default `root`. */
  readonly text?: TextPlace
}

/** Replays the trace from the writer while the reader waits for the text; measures both and the server. */
export const measureReplay = async (params: ReplayParams): Promise<TraceOutcome> => {
  const { server, writer, reader, sizes, kill } = params
  const text = params.text ?? 'root'
  const timeoutMs = traceTimeoutMs(sizes)
  const serverCpu = new CpuWindow(server.pid)
  const cpuBefore = (await writer.cpuMs()) + (await reader.cpuMs())
  const waitParams: WaitParams = {
    timeoutMs,
    text,
    ...(kill === 'on-reader' ? { killPidOnDone: server.pid } : {}),
  }
  const readerDone = reader.call<{ doneAt: number }>('text.waitFor', waitParams)
  const writeParams: WriteParams = {
    yieldEvery: 100,
    highWaterBytes: 1024 * 1024,
    waitConfirmed: params.waitConfirmed,
    ...(kill === 'on-saved' ? { killPidOnConfirmed: server.pid } : {}),
    timeoutMs,
    text,
  }
  const write = await writer.call<WriteResult>('trace.write', writeParams, timeoutMs + 5000)
  // When the relay is killed at `saved`, the reader may never complete: do not wait for it.
  const readerDoneAt = kill === 'on-saved' ? null : (await readerDone).doneAt
  readerDone.catch(() => undefined)
  const cpuAfter = kill === 'none' ? serverCpu.read().cpuMs : Number.NaN
  const memory = kill === 'none' ? readMemoryMb(server.pid) : { peakRssMb: Number.NaN }
  const clientCpuMs = (await writer.cpuMs()) + (await reader.cpuMs()) - cpuBefore
  return {
    writerClientId: params.writerClientId,
    write,
    readerDoneAt,
    clientCpuMs,
    serverCpuMs: cpuAfter,
    serverPeakRssMb: memory.peakRssMb,
  }
}

/** Workload 2's values from an outcome: times from the writer's first patch. */
export const traceValues = (outcome: TraceOutcome, sizes: Sizes): Record<string, number | null> => {
  const { write, readerDoneAt } = outcome
  const readerMs = readerDoneAt === null ? null : readerDoneAt - write.startAt
  const savedMs = write.confirmedAt === null ? null : write.confirmedAt - write.startAt
  const doneMs = Math.max(readerMs ?? 0, savedMs ?? 0)
  return {
    readerMs,
    savedMs,
    writeMs: write.writtenAt - write.startAt,
    doneMs,
    updatesPerSec: (1000 * sizes.tracePatches) / doneMs,
    clientCpuMs: outcome.clientCpuMs,
    serverCpuMs: outcome.serverCpuMs,
    serverPeakRssMb: outcome.serverPeakRssMb,
  }
}
