/**
 * Worked example: a backend service that follows the feed of `boards/*` and gives every new task
 * without an estimate one computed from its title, resuming after a restart from a cursor file.
 *
 * Standalone: `WEFT_URL=http://localhost:8787 WEFT_TOKEN=… WEFT_CURSOR_FILE=./estimator.cursor
 * node --import tsx packages/service-client/src/examples/task-estimator.ts`
 */
import { open, readFile, rename } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import {
  WeftServiceClient,
  isWeftError,
  type FeedEvent,
  type RecordChange,
} from '@weft/service-client'

/** Options of {@link runTaskEstimator}. */
export interface TaskEstimatorOptions {
  /** The relay's HTTP address, e.g. `http://localhost:8787`. */
  readonly url: string
  /** A token that may write `boards/*` (a string or a function returning one). Default: none (open mode). */
  readonly token?: string | (() => string | Promise<string>)
  /** Where the cursor is kept between runs: processing resumes after it. */
  readonly cursorFile: string
  /** Stops the estimator: `runTaskEstimator` then resolves. */
  readonly signal: AbortSignal
  /** Told what happened, one line at a time. Default: nothing. */
  readonly log?: (line: string) => void
}

/** The estimate of a task: one point per word of its title, at least one. */
export const estimateOf = (title: string): number =>
  Math.max(1, title.split(/\s+/).filter((word) => word !== '').length)

/**
 * Runs the estimator until `signal` aborts. At least once: a batch is processed, then its cursor
 * is written, so a crash in between replays the batch on the next start. Replays are harmless:
 * a task is estimated only if it still has no estimate when the batch is processed.
 * Rejects with the error that stopped it (`CURSOR_EXPIRED` when it was off for longer than the
 * relay keeps its feed, `FORBIDDEN` for a token without write access to `boards/*`).
 */
export const runTaskEstimator = async (options: TaskEstimatorOptions): Promise<void> => {
  const { url, token, cursorFile, signal, log = () => {} } = options
  const client = new WeftServiceClient({ url, ...(token === undefined ? {} : { token }) })
  // No cursor yet: start at the oldest event the relay keeps.
  const after = await readCursor(cursorFile)
  log(`following boards/* after ${after ?? 'the oldest kept event'}`)
  await client.follow({
    ...(after === undefined ? {} : { after }),
    docs: ['boards/*'],
    signal,
    onRetry: ({ attempt, delayMs, error }) =>
      log(`feed read failed (${error.code}), retry ${attempt} in ${delayMs} ms`),
    onEvents: async (events, cursor) => {
      for (const [doc, taskIds] of unestimatedTasks(events)) {
        await estimate(client, doc, taskIds, log)
      }
      // Only now is the batch done: a crash before this line replays it, never skips it.
      await writeCursor(cursorFile, cursor)
      log(`processed through ${cursor}`)
    },
  })
}

/** The tasks created without an estimate in `events`, by document. */
const unestimatedTasks = (events: readonly FeedEvent[]): Map<string, string[]> => {
  const byDoc = new Map<string, string[]>()
  for (const event of events) {
    for (const change of event.events) {
      if (change.type !== 'record.created' || change.collection !== 'tasks') continue
      if (change.record['estimate'] !== null && change.record['estimate'] !== undefined) continue
      byDoc.set(event.doc, [...(byDoc.get(event.doc) ?? []), change.id])
    }
  }
  return byDoc
}

/** Writes estimates for those of `taskIds` that still exist without one (replays do nothing). */
const estimate = async (
  client: WeftServiceClient,
  doc: string,
  taskIds: readonly string[],
  log: (line: string) => void,
): Promise<void> => {
  let read
  try {
    read = await client.getDocument(doc)
  } catch (error) {
    if (isWeftError(error, 'NOT_FOUND')) return // deleted since: nothing to estimate
    throw error
  }
  if (!('model' in read)) return // no schema for it on this relay
  const wanted = new Set(taskIds)
  const changes: RecordChange[] = (read.model.collections['tasks'] ?? [])
    .filter((task) => wanted.has(String(task['id'])) && task['estimate'] === null)
    .map((task) => ({
      op: 'update',
      collection: 'tasks',
      id: String(task['id']),
      fields: { estimate: estimateOf(String(task['title'] ?? '')) },
    }))
  if (changes.length === 0) return
  const saved = await client.changeRecords(doc, changes, { correlationId: 'task-estimator' })
  log(`${doc}: estimated ${changes.length} task(s) (correlation id ${saved.correlationId})`)
}

/** The cursor saved by an earlier run, or `undefined` on the first. */
const readCursor = async (file: string): Promise<string | undefined> => {
  try {
    return (await readFile(file, 'utf8')).trim()
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return undefined
    throw error
  }
}

/** Replaces the cursor file atomically and durably: a crash leaves the old cursor or the new. */
const writeCursor = async (file: string, cursor: string): Promise<void> => {
  const temporary = `${file}.tmp`
  const handle = await open(temporary, 'w')
  try {
    await handle.writeFile(`${cursor}\n`)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temporary, file)
}

/** Run as a script: reads WEFT_URL, WEFT_TOKEN and WEFT_CURSOR_FILE; stops on SIGINT/SIGTERM. */
const main = async (): Promise<void> => {
  const stop = new AbortController()
  process.once('SIGINT', () => stop.abort())
  process.once('SIGTERM', () => stop.abort())
  const token = process.env['WEFT_TOKEN']
  await runTaskEstimator({
    url: process.env['WEFT_URL'] ?? 'http://localhost:8787',
    ...(token === undefined || token === '' ? {} : { token }),
    cursorFile: process.env['WEFT_CURSOR_FILE'] ?? './task-estimator.cursor',
    signal: stop.signal,
    log: (line) => console.log(line),
  })
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
