import { EventEmitter } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient, type WeftClient } from '@weft/client'
import { openModel } from '@weft/doc'
import { WeftServiceClient } from '@weft/service-client'
import { until, withTimeout, type TestRelay, scopedToken, writeToken } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { estimateOf, runTaskEstimator } from '../src/examples/task-estimator.js'
import { boardSchema } from './fixtures/board-schema.js'
import { startApiRelay } from './fixtures/relays.js'

let relay: TestRelay | null = null
let dir: string | null = null
const clients: WeftClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close()
  await relay?.close()
  relay = null
  if (dir !== null) await rm(dir, { recursive: true, force: true })
  dir = null
})

/** Starts the estimator; `processed(cursor)` resolves once it persisted a cursor at or past it. */
const startEstimator = (options: { url: string; token: string; cursorFile: string }) => {
  const stop = new AbortController()
  const lines = new EventEmitter()
  const log: string[] = []
  let through = 0
  const running = runTaskEstimator({
    ...options,
    signal: stop.signal,
    log: (line) => {
      log.push(line)
      const match = /^processed through (\d+)$/.exec(line)
      if (match !== null) through = Number(match[1])
      lines.emit('line', line)
    },
  })
  const processed = (cursor: string): Promise<void> =>
    until(
      lines,
      'line',
      () => through >= Number(cursor),
      () => `the estimator processing through ${cursor} (at ${through})`,
    )
  const stopped = async (): Promise<void> => {
    stop.abort()
    await withTimeout(running, 5_000, 'the estimator stops')
  }
  return { log, processed, stopped }
}

describe('the task-estimator example', () => {
  it('estimates new tasks that users create, resumes from its cursor file, and replays harmlessly', async () => {
    relay = await startApiRelay()
    dir = await mkdtemp(join(tmpdir(), 'weft-estimator-'))
    const cursorFile = join(dir, 'estimator.cursor')
    const serviceToken = await scopedToken('svc-estimator', [
      { pattern: 'boards/*', access: 'write' },
    ])
    const options = { url: relay.httpUrl, token: serviceToken, cursorFile }
    const estimator = startEstimator(options)

    const user = createClient({
      url: relay.url,
      token: await writeToken('ana'),
      WebSocket: WebSocket,
    })
    clients.push(user)
    const handle = user.open('boards/launch')
    await handle.whenSynced()
    const model = openModel(handle.doc, boardSchema, { author: 'ana' })
    model.migrate()
    const tasks = model.collection('tasks')
    const write = tasks.create({ title: 'Write the launch post', status: 'todo', estimate: null })
    const fix = tasks.create({ title: 'Fix login', status: 'doing', estimate: null })
    const given = tasks.create({ title: 'Book the venue', status: 'todo', estimate: 8 })
    await handle.whenSaved()

    const estimated = (id: string, value: number) => () => tasks.get(id)?.estimate === value
    await until(handle.doc, 'update', estimated(write.id, 4), () => 'estimate 4 on "Write…"')
    await until(handle.doc, 'update', estimated(fix.id, 2), () => 'estimate 2 on "Fix login"')
    expect(tasks.get(given.id)?.estimate).toBe(8) // it had one: left alone
    expect(estimateOf('  one   two ')).toBe(2)

    // Restarted, it resumes after its cursor: only the new task is estimated.
    const service = new WeftServiceClient({ url: relay.httpUrl, token: serviceToken })
    const headBeforeStop = await service.feedHead()
    await estimator.processed(headBeforeStop)
    await estimator.stopped()
    expect((await readFile(cursorFile, 'utf8')).trim()).toBe(headBeforeStop)
    const later = tasks.create({ title: 'Plan the retro', status: 'todo', estimate: null })
    await handle.whenSaved()
    const restarted = startEstimator(options)
    await until(handle.doc, 'update', estimated(later.id, 3), () => 'estimate 3 on the retro')
    await restarted.processed(await service.feedHead())
    await restarted.stopped()
    expect(restarted.log[0]).toBe(`following boards/* after ${headBeforeStop}`)

    // Without its cursor file it replays the whole feed, and writes nothing new: every task
    // already has an estimate when the replayed record.created is processed.
    await rm(cursorFile)
    const headBeforeReplay = await service.feedHead()
    const replay = startEstimator(options)
    await replay.processed(headBeforeReplay)
    await replay.stopped()
    expect(await service.feedHead()).toBe(headBeforeReplay)
    expect(replay.log.filter((line) => line.includes('estimated'))).toEqual([])

    // Every estimate is one record.updated by the service, seen by the user's client.
    const page = await service.readFeed({ docs: ['boards/*'] })
    const byService = page.events.filter((event) => event.author === 'svc-estimator')
    expect(byService.flatMap((event) => event.events.map((change) => change.type))).toEqual([
      'record.updated',
      'record.updated',
      'record.updated',
    ])
    expect(byService.every((event) => event.correlationId === 'task-estimator')).toBe(true)
    const estimates = Object.fromEntries(tasks.list().map((task) => [task.title, task.estimate]))
    expect(estimates).toEqual({
      'Write the launch post': 4,
      'Fix login': 2,
      'Book the venue': 8,
      'Plan the retro': 3,
    })
  })
})
