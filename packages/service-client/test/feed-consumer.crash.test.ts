import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { WeftServiceClient, type FeedEvent } from '@weft/service-client'
import { withTimeout, type TestRelay, scopedToken, writeToken } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { startApiRelay } from './fixtures/relays.js'

const CONSUMER = fileURLToPath(new URL('./fixtures/feed-consumer.ts', import.meta.url))
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))

let relay: TestRelay | null = null
let dir: string | null = null
const children: ChildProcess[] = []
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  await relay?.close()
  relay = null
  if (dir !== null) await rm(dir, { recursive: true, force: true })
  dir = null
})

/** A consumer process; `lines(accept)` resolves with the first stdout line `accept` takes. */
const startConsumer = (env: Record<string, string>) => {
  const child = spawn(process.execPath, ['--import', 'tsx', CONSUMER], {
    cwd: PACKAGE_DIR,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  const seen: string[] = []
  const waiters: Array<{ accept: (line: string) => boolean; resolve: (line: string) => void }> = []
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    seen.push(line)
    for (const waiter of waiters.filter((each) => each.accept(line))) {
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve(line)
    }
  })
  const line = (accept: (line: string) => boolean, what: string): Promise<string> =>
    withTimeout(
      new Promise<string>((resolve) => {
        const earlier = seen.find(accept)
        if (earlier !== undefined) resolve(earlier)
        else waiters.push({ accept, resolve })
      }),
      10_000,
      what,
    )
  const exited = (): Promise<unknown> =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : withTimeout(once(child, 'exit'), 10_000, 'the consumer exits')
  return { child, seen, line, exited }
}

/** Writes to `jobs/0..2` (and to `other/*`, which the consumer filters out) until stopped. */
const startWriters = (client: WeftServiceClient) => {
  let stopped = false
  let writes = 0
  const writer = async (lane: number): Promise<void> => {
    for (let index = 0; !stopped; index++) {
      const doc = new Y.Doc()
      doc.getMap('log').set(`${lane}-${index}`, index)
      const name = index % 4 === 3 ? `other/${lane}` : `jobs/${(lane + index) % 3}`
      await client.postUpdate(name, Y.encodeStateAsUpdate(doc))
      writes += 1
    }
  }
  const running = Promise.all([writer(0), writer(1)])
  return {
    stop: async (): Promise<number> => {
      stopped = true
      await withTimeout(running, 10_000, 'the writers stop')
      return writes
    },
  }
}

/** Every `jobs/*` event of the feed, read page by page to its head. */
const readWholeFeed = async (client: WeftServiceClient): Promise<FeedEvent[]> => {
  const events: FeedEvent[] = []
  let after = '0'
  for (;;) {
    const page = await client.readFeed({ after, docs: ['jobs/*'], limit: 1000 })
    events.push(...page.events)
    if (page.cursor === page.head) return events
    after = page.cursor
  }
}

describe('a feed consumer killed mid-stream and restarted', () => {
  it(
    'loses no event, repeats only events after its last persisted cursor, and sees stable ids',
    { timeout: 30_000 },
    async () => {
      relay = await startApiRelay()
      dir = await mkdtemp(join(tmpdir(), 'weft-consumer-'))
      const env = {
        WEFT_URL: relay.httpUrl,
        WEFT_TOKEN: await scopedToken('consumer', [{ pattern: '**', access: 'read' }]),
        CURSOR_FILE: join(dir, 'cursor'),
        OUTPUT_FILE: join(dir, 'processed.txt'),
      }
      const service = new WeftServiceClient({
        url: relay.httpUrl,
        token: await writeToken('writer'),
      })
      const writers = startWriters(service)

      const first = startConsumer(env)
      let batches = 0
      await first.line((line) => line.startsWith('appended') && ++batches === 4, 'batch 4')
      // Batch 4's ids are in the output; its cursor is being persisted, or just was.
      first.child.kill('SIGKILL')
      await first.exited()
      const persisted = Number((await readFile(env.CURSOR_FILE, 'utf8')).trim())
      const linesBeforeRestart = (await readFile(env.OUTPUT_FILE, 'utf8')).split('\n').length - 1

      const second = startConsumer(env)
      await second.line((line) => line === `start ${persisted}`, 'restart from the cursor file')
      let more = 0
      await second.line((line) => line.startsWith('cursor') && ++more === 3, 'three batches')
      const writes = await writers.stop()
      const head = await service.feedHead()
      await second.line((line) => line === `cursor ${head}`, `the consumer reaching ${head}`)
      second.child.kill('SIGTERM')
      await second.exited()

      const feed = await readWholeFeed(service)
      const output = (await readFile(env.OUTPUT_FILE, 'utf8'))
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => line.split(' '))
      const counts = new Map<string, number>()
      for (const [id] of output) counts.set(id as string, (counts.get(id as string) ?? 0) + 1)
      const duplicates = [...counts].filter(([, count]) => count > 1).map(([id]) => id)
      console.log(
        `${writes} writes, ${feed.length} jobs events, consumer killed with cursor ${persisted} ` +
          `persisted, ${duplicates.length} duplicates (${duplicates.join(', ') || 'none'})`,
      )

      expect(feed.length).toBeGreaterThan(12)
      // No event lost, none invented.
      expect([...counts.keys()].sort()).toEqual(feed.map((event) => event.id).sort())
      // Duplicates only in the at-least-once window: after the last persisted cursor, at most twice.
      expect(duplicates.filter((id) => Number(id) <= persisted)).toEqual([])
      expect([...counts.values()].every((count) => count <= 2)).toBe(true)
      // The restart resumed right after the persisted cursor, in feed order.
      const resumed = output.slice(linesBeforeRestart).map(([id]) => Number(id))
      expect(resumed[0]).toBe(Number(feed.find((event) => event.position > persisted)?.id))
      expect(resumed.every((id, index) => index === 0 || id > (resumed[index - 1] as number))).toBe(
        true,
      )
      // Ids are stable: every line names the same document and sequence as the final read.
      const byId = new Map(feed.map((event) => [event.id, `${event.doc} ${event.seq}`]))
      expect(output.filter(([id, doc, seq]) => byId.get(id as string) !== `${doc} ${seq}`)).toEqual(
        [],
      )
    },
  )
})
