import { EventEmitter } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { verifyWebhook } from '@weft/protocol'
import { startTestRelay, testClient, until, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { WebhookDispatcher } from '../src/webhook-dispatcher.js'
import type { WebhookEndpointOptions } from '../src/webhook-options.js'

const SECRET = 'a-webhook-secret-for-tests'

/** What the receiver saw of one request. */
interface Received {
  readonly atMs: number
  readonly delivery: string
  readonly attempt: number
  readonly replay: boolean
  readonly verified: boolean
  readonly events: Array<{ id: string; doc: string; seq: number; position: number }>
  /** The status the receiver answered (0: it never answered). */
  status: number
}

/** A real HTTP receiver whose answer to each request a test decides. */
const startReceiver = async (
  answer: (request: Received) => number | 'hang',
): Promise<{
  url: string
  received: Received[]
  /** Emits `request` once each request is answered (or left hanging). */
  events: EventEmitter
  close: () => Promise<void>
}> => {
  const received: Received[] = []
  const events = new EventEmitter()
  const hanging: ServerResponse[] = []
  const server: Server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString('utf8')
        const verification = await verifyWebhook({
          body,
          header: request.headers['weft-signature'] as string | undefined,
          secret: SECRET,
        })
        const parsed = JSON.parse(body) as { events: Received['events'] }
        const entry: Received = {
          atMs: performance.now(),
          delivery: String(request.headers['weft-delivery']),
          attempt: Number(request.headers['weft-attempt']),
          replay: request.headers['weft-replay'] === 'true',
          verified: verification.ok,
          events: parsed.events,
          status: 0,
        }
        received.push(entry)
        const status = answer(entry)
        if (status === 'hang') {
          hanging.push(response)
        } else {
          entry.status = status
          response.writeHead(status).end()
        }
        events.emit('request')
      })()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    events,
    close: async () => {
      for (const response of hanging) response.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

let relay: TestRelay | null = null
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await relay?.close()
  relay = null
})

const startRelay = async (): Promise<TestRelay> =>
  (relay = await startTestRelay({ historyMs: 60_000 }))

/** Every dispatcher's deliveries, delivered, failed or dead-lettered, as `webhook` events. */
const outcomes = new EventEmitter()

const dispatch = async (
  endpoints: WebhookEndpointOptions[],
  random = (): number => 0.999,
): Promise<WebhookDispatcher> => {
  const { relay: inner, store } = relay as TestRelay
  const dispatcher = new WebhookDispatcher({
    feed: inner.feed,
    store,
    endpoints,
    random,
    onEvent: (event) => outcomes.emit('webhook', event),
  })
  await dispatcher.start()
  cleanups.push(() => dispatcher.close())
  return dispatcher
}

/** Writes `count` changes to `doc`, one durable change each. */
const write = async (doc: string, count: number, label = doc): Promise<void> => {
  const handle = await (relay as TestRelay).relay.documents.open(doc, { service: 'writer' })
  for (let index = 0; index < count; index++) {
    await handle.transact((ydoc) => ydoc.getArray<string>('items').push([`${label}-${index}`]))
  }
  await handle.close()
}

const deliveredEvents = (received: readonly Received[]): Received['events'] =>
  received.filter((each) => each.status >= 200 && each.status < 300).flatMap((each) => each.events)

describe('webhooks', () => {
  it('retry a failing and a timing-out receiver with full-jitter backoff, signed, in order per document', async () => {
    await startRelay()
    let calls = 0
    // Two failures, one request that never answers (a timeout), then success.
    const receiver = await startReceiver(() => {
      calls += 1
      return calls <= 2 ? 500 : calls === 3 ? 'hang' : 200
    })
    cleanups.push(receiver.close)
    await dispatch([
      {
        id: 'search',
        url: receiver.url,
        secrets: [SECRET],
        timeoutMs: 400,
        initialBackoffMs: 100,
        maxBackoffMs: 1_000,
        maxAttempts: 8,
        maxBatchEvents: 4,
      },
    ])
    await Promise.all([write('a', 6), write('b', 6)])
    await until(
      receiver.events,
      'request',
      () => deliveredEvents(receiver.received).length >= 12,
      () => 'all 12 events delivered',
      15_000,
    )

    const [first, second, third, fourth] = receiver.received
    // One delivery, retried under the same id with increasing attempts.
    expect(new Set([first, second, third, fourth].map((each) => each?.delivery)).size).toBe(1)
    expect([first, second, third, fourth].map((each) => each?.attempt)).toEqual([1, 2, 3, 4])
    // random() = 0.999: each wait is just under its bound (100, 200, 400 ms), after a timeout too.
    const gap = (a?: Received, b?: Received): number => (b?.atMs ?? 0) - (a?.atMs ?? 0)
    expect(gap(first, second)).toBeGreaterThanOrEqual(95)
    expect(gap(second, third)).toBeGreaterThanOrEqual(195)
    // The timeout runs from when the third request was sent; the receiver stamps its arrival,
    // which a loaded machine can delay by tens of milliseconds (seen: 777 ms).
    expect(gap(third, fourth)).toBeGreaterThanOrEqual(400 + 395 - 100)
    expect(gap(third, fourth)).toBeLessThan(400 + 399 + 2_000)

    expect(receiver.received.every((each) => each.verified)).toBe(true)
    const events = deliveredEvents(receiver.received)
    expect(new Set(events.map((event) => event.id)).size).toBe(12)
    for (const doc of ['a', 'b']) {
      const seqs = events.filter((event) => event.doc === doc).map((event) => event.seq)
      expect(seqs).toEqual([1, 2, 3, 4, 5, 6])
    }
    expect(events.map((event) => event.position)).toEqual(
      [...events.map((event) => event.position)].sort((x, y) => x - y),
    )
  })

  it('dead-letter a delivery after its last attempt, go on, and replay it when asked', async () => {
    await startRelay()
    let down = true
    const receiver = await startReceiver(() => (down ? 503 : 200))
    cleanups.push(receiver.close)
    const endpoint = {
      id: 'crm',
      url: receiver.url,
      secrets: [SECRET],
      initialBackoffMs: 20,
      maxAttempts: 3,
      start: 'oldest' as const,
    }
    await write('first', 2)
    let dispatcher = await dispatch([endpoint])
    await until(
      outcomes,
      'webhook',
      () => dispatcher.status()[0]?.deadLettered === 2,
      () => 'the first events dead-lettered',
    )
    expect(receiver.received.map((each) => each.attempt)).toEqual([1, 2, 3])
    down = false
    await write('second', 1)
    await until(
      outcomes,
      'webhook',
      () => dispatcher.status()[0]?.delivered === 1,
      () => 'the later event delivered',
    )
    expect(deliveredEvents(receiver.received)[0]?.doc).toBe('second')

    // Dead letters and the cursor survive a restart of the dispatcher.
    await dispatcher.close()
    dispatcher = await dispatch([endpoint])
    const [letter, ...others] = await dispatcher.deadLetters('crm')
    expect(others).toEqual([])
    expect(letter).toMatchObject({ attempts: 3, lastError: 'HTTP 503' })
    expect(letter?.events.map((event) => [event.doc, event.seq])).toEqual([
      ['first', 1],
      ['first', 2],
    ])
    expect(await dispatcher.replay('crm')).toEqual({ delivered: 1, remaining: 0 })
    const replayed = receiver.received.at(-1)
    expect(replayed).toMatchObject({ replay: true, delivery: letter?.delivery, verified: true })
    expect(replayed?.events.map((event) => event.id)).toEqual(
      letter?.events.map((event) => event.id),
    )
    expect(await dispatcher.deadLetters('crm')).toEqual([])
    // Nothing delivered before the restart came again.
    expect(
      deliveredEvents(receiver.received).filter((event) => event.doc === 'second'),
    ).toHaveLength(1)
  })

  it('a receiver that never answers slows neither the relay nor another endpoint', async () => {
    const { url } = await startRelay()
    const stuck = await startReceiver(() => 'hang')
    const fine = await startReceiver(() => 200)
    cleanups.push(stuck.close, fine.close)
    await dispatch([
      { id: 'stuck', url: stuck.url, secrets: [SECRET], timeoutMs: 60_000 },
      { id: 'fine', url: fine.url, secrets: [SECRET] },
    ])
    const handle = testClient({ url }).open('busy')
    await handle.whenSynced()
    for (let index = 0; index < 10; index++) {
      const started = performance.now()
      handle.doc.getText('t').insert(0, `${index}`)
      await handle.whenSaved()
      expect(performance.now() - started).toBeLessThan(1_000)
    }
    await until(
      fine.events,
      'request',
      () => deliveredEvents(fine.received).length === 10,
      () => 'all events at the fine endpoint',
    )
    expect(stuck.received.length).toBe(1)
    expect(stuck.received[0]?.status).toBe(0)
  })

  it('refuses bad endpoint options and unknown endpoints with clear codes', async () => {
    await startRelay()
    const { relay: inner, store } = relay as TestRelay
    const make = (endpoints: unknown) =>
      new WebhookDispatcher({ feed: inner.feed, store, endpoints: endpoints as never })
    const good = { id: 'x', url: 'http://127.0.0.1:9/hook', secrets: [SECRET] }
    expect(() => make([{ ...good, id: 'bad id!' }])).toThrow(/endpoints\[0\]\.id/)
    expect(() => make([good, good])).toThrow(/used twice/)
    expect(() => make([{ ...good, url: 'ftp://x' }])).toThrow(/url/)
    expect(() => make([{ ...good, secrets: ['short'] }])).toThrow(/secrets/)
    expect(() => make([{ ...good, maxAttempts: 0 }])).toThrow(/maxAttempts/)
    expect(() => make([{ ...good, start: 'tomorrow' }])).toThrow(/start/)
    expect(() => make('nope')).toThrow(/list/)
    await expect(make([]).deadLetters('missing')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    const noFeed = await startTestRelay()
    try {
      expect(
        () =>
          new WebhookDispatcher({
            feed: noFeed.relay.feed,
            store: noFeed.store,
            endpoints: [good],
          }),
      ).toThrow(/history window/)
    } finally {
      await noFeed.close()
    }
  })
})
