/**
 * Writes to a document with a schema, judged within a tick without applying the room's queue
 * for each message: a stock y-websocket client typing at full speed (one update per message)
 * into a record's text is applied in a few transactions, and what breaks the schema or the
 * record rules is still refused.
 */
import { defineSchema, field, openModel } from '@weft/doc'
import { jwtAuth, type RecordRules } from '@weft/server'
import { startTestRelay, TEST_SECRET, testClient, writeToken, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

const board = defineSchema({
  version: 1,
  collections: {
    tasks: { title: field.string(), notes: field.text(), tags: field.list(field.string()) },
  },
})
const rules: RecordRules = { tasks: { update: 'owner' } }
const KEYSTROKES = 400

let relay: TestRelay | null = null
const providers: WebsocketProvider[] = []
afterEach(async () => {
  for (const provider of providers.splice(0)) provider.destroy()
  await relay?.close()
  relay = null
})

/** The relay, counting the transactions its rooms apply for clients. */
const start = async () => {
  const applied = { transactions: 0, updates: 0, checks: 0, checkSeconds: 0 }
  relay = await startTestRelay({
    auth: jwtAuth({ secret: TEST_SECRET }),
    schemas: [{ pattern: 'boards/*', schema: board, rules }],
    metrics: {
      updatesApplied: (count: number) => {
        applied.transactions += 1
        applied.updates += count
      },
      writeChecked: (seconds: number) => {
        applied.checks += 1
        applied.checkSeconds += seconds
      },
    },
  })
  return applied
}

/** A stock y-websocket provider of `user` on `name`, synced. */
const stockProvider = async (user: string, name: string) => {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(relay!.url, name, doc, {
    WebSocketPolyfill: WebSocket as never,
    disableBc: true,
    params: { token: await writeToken(user) },
  })
  providers.push(provider)
  await new Promise<void>((resolve) => provider.once('sync', () => resolve()))
  return { doc, provider }
}

/** What the relay holds of a task. */
const storedTask = async (name: string, id: string) => {
  const json = await relay!.relay.documents.json(name)
  return 'model' in json ? json.model.collections['tasks']?.find((task) => task.id === id) : null
}

const notesOf = (doc: Y.Doc, id: string): Y.Text =>
  (doc.getMap<Y.Map<unknown>>('tasks').get(id) as Y.Map<unknown>).get('~notes') as Y.Text

describe('writes judged against the queue of a tick', () => {
  it('take a full-speed stock client typing into its text in a few transactions, every keystroke kept', async () => {
    const applied = await start()
    const ana = testClient(relay!, { token: () => writeToken('ana') }).open('boards/1')
    await ana.whenSynced()
    const { id } = openModel(ana.doc, board, { author: 'ana' })
      .collection('tasks')
      .create({ title: 'Draft', notes: '' })
    await ana.whenSaved()
    const stock = await stockProvider('ana', 'boards/1')
    const before = { ...applied }
    const notes = notesOf(stock.doc, id)
    for (let n = 0; n < KEYSTROKES; n++) notes.insert(notes.length, String(n % 10))
    const expected = notes.toString()
    await expect
      .poll(async () => (await storedTask('boards/1', id))?.['notes'], { timeout: 10_000 })
      .toBe(expected)
    expect(applied.updates - before.updates).toBe(KEYSTROKES)
    // Judged one by one against the queue, applied together: judging each against the document
    // would apply each on its own.
    expect(applied.transactions - before.transactions).toBeLessThan(KEYSTROKES / 4)
    // Every message was judged, and the time it took is reported.
    expect(applied.checks - before.checks).toBeGreaterThanOrEqual(KEYSTROKES)
    expect(applied.checkSeconds).toBeGreaterThan(before.checkSeconds)
  })

  it('reports no check for a document without a schema written with full access', async () => {
    const applied = await start()
    const stock = await stockProvider('ana', 'notes/1')
    const before = { ...applied }
    const text = stock.doc.getText('t')
    for (let n = 0; n < 20; n++) text.insert(text.length, 'z')
    await expect.poll(() => applied.updates - before.updates, { timeout: 10_000 }).toBe(20)
    expect(applied.checks).toBe(before.checks)
  })

  it("still refuses, within a burst, a list item of the wrong type and an edit of another's record", async () => {
    await start()
    const ana = testClient(relay!, { token: () => writeToken('ana') }).open('boards/2')
    await ana.whenSynced()
    const tasks = openModel(ana.doc, board, { author: 'ana' }).collection('tasks')
    const { id } = tasks.create({ title: 'Ana', notes: 'a' })
    await ana.whenSaved()

    const own = await stockProvider('ana', 'boards/2')
    const typed = notesOf(own.doc, id)
    const closed = new Promise<number>((resolve) =>
      own.provider.on('connection-close', (event) => resolve(event?.code ?? 0)),
    )
    for (let n = 0; n < 50; n++) typed.insert(typed.length, 'x')
    ;(
      (own.doc.getMap<Y.Map<unknown>>('tasks').get(id) as Y.Map<unknown>).get(
        '~tags',
      ) as Y.Array<unknown>
    ).push([1])
    for (let n = 0; n < 50; n++) typed.insert(typed.length, 'y')
    expect(await closed).toBe(4423)

    const ben = await stockProvider('ben', 'boards/2')
    const benClosed = new Promise<number>((resolve) =>
      ben.provider.on('connection-close', (event) => resolve(event?.code ?? 0)),
    )
    const foreign = notesOf(ben.doc, id)
    for (let n = 0; n < 50; n++) foreign.insert(foreign.length, 'b')
    expect(await benClosed).toBe(4403)
    own.provider.destroy()
    ben.provider.destroy()
    const stored = await storedTask('boards/2', id)
    expect(stored?.['tags']).toEqual([])
    expect(String(stored?.['notes'])).not.toContain('b')
    expect(String(stored?.['notes'])).not.toContain('y')
  })
})
