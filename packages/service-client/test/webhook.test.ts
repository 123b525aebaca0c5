import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { signWebhook } from '@weft/protocol'
import { WebhookDispatcher } from '@weft/server/webhooks'
import {
  isWeftError,
  parseWebhookDelivery,
  verifyWebhookRequest,
  WeftServiceClient,
  type WebhookDelivery,
} from '@weft/service-client'
import { withTimeout, type TestRelay, writeToken } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { startApiRelay } from './fixtures/relays.js'

const NEW_SECRET = 'whsec-new-0123456789abcdef'
const OLD_SECRET = 'whsec-old-0123456789abcdef'

const event = (id: number) => ({
  id: String(id),
  position: id,
  doc: 'boards/1',
  seq: id,
  kind: 'update',
  author: 'ana',
  correlationId: 'c-1',
  receivedAtMs: 1_700_000_000_000,
  bytes: 42,
  events: [{ type: 'record.deleted', collection: 'tasks', id: 't1' }],
})

const deliveryBody = JSON.stringify({
  endpoint: 'search',
  delivery: 'search:1-2',
  attempt: 1,
  events: [event(1), event(2)],
})

let server: Server | null = null
let relay: TestRelay | null = null
let dispatcher: WebhookDispatcher | null = null
afterEach(async () => {
  await dispatcher?.close()
  dispatcher = null
  await relay?.close()
  relay = null
  server?.closeAllConnections()
  await new Promise((resolve) => (server === null ? resolve(null) : server.close(resolve)))
  server = null
})

/**
 * A Node `http` receiver: collects the raw body, verifies it with `secret`, answers 204 or 401
 * (or `status(attempt)` when given, to make the relay retry). Resolves with its URL.
 */
const startReceiver = async (
  secret: string | readonly string[],
  received: Array<{ delivery: WebhookDelivery; header: string | undefined }>,
  refusals: string[],
  status: (delivery: WebhookDelivery) => number = () => 204,
): Promise<string> => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      // The raw bytes, never JSON.parse-then-stringify: the signature covers them exactly.
      const body = new Uint8Array(Buffer.concat(chunks))
      void verifyWebhookRequest({ body, headers: request.headers, secret }).then((result) => {
        if (!result.ok) {
          refusals.push(result.reason)
          response.writeHead(401).end()
          return
        }
        const header = request.headers['weft-delivery']
        received.push({
          delivery: result.delivery,
          header: typeof header === 'string' ? header : undefined,
        })
        response.writeHead(status(result.delivery)).end()
      })
    })
  })
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/weft`
}

describe('verifyWebhookRequest', () => {
  it('accepts a delivery signed with the secret, and parses it', async () => {
    const nowSec = 1_700_000_000
    const header = await signWebhook([NEW_SECRET], deliveryBody, nowSec)
    const headers = new Headers({ 'weft-signature': header })
    const result = await verifyWebhookRequest({
      body: deliveryBody,
      headers,
      secret: NEW_SECRET,
      nowSec: nowSec + 299,
    })
    expect(result).toEqual({
      ok: true,
      timestampSec: nowSec,
      delivery: JSON.parse(deliveryBody) as WebhookDelivery,
    })
  })

  it('works through secret rotation on either side', async () => {
    const nowSec = 1_700_000_000
    const both = await signWebhook([NEW_SECRET, OLD_SECRET], deliveryBody, nowSec)
    const oldOnly = await signWebhook([OLD_SECRET], deliveryBody, nowSec)
    const verify = (header: string, secret: string | readonly string[]) =>
      verifyWebhookRequest({
        body: new TextEncoder().encode(deliveryBody),
        headers: { 'Weft-Signature': header },
        secret,
        nowSec,
      }).then((result) => result.ok)
    expect(await verify(both, NEW_SECRET)).toBe(true) // relay sends both, receiver moved on
    expect(await verify(both, OLD_SECRET)).toBe(true) // relay sends both, receiver not yet
    expect(await verify(oldOnly, [NEW_SECRET, OLD_SECRET])).toBe(true) // receiver accepts both
    expect(await verify(oldOnly, NEW_SECRET)).toBe(false)
  })

  it('refuses a missing, stale, tampered or re-serialized request, and a body that is no delivery', async () => {
    const nowSec = 1_700_000_000
    const header = await signWebhook([NEW_SECRET], deliveryBody, nowSec)
    const reasonOf = async (body: string, headers: Record<string, string>, at = nowSec) => {
      const result = await verifyWebhookRequest({ body, headers, secret: NEW_SECRET, nowSec: at })
      return result.ok ? 'ok' : result.reason
    }
    expect(await reasonOf(deliveryBody, {})).toMatch(/no weft-signature header/)
    expect(await reasonOf(deliveryBody, { 'weft-signature': 't=1,v1=zz' })).toMatch(/malformed/)
    expect(await reasonOf(deliveryBody, { 'weft-signature': header }, nowSec + 301)).toMatch(
      /older than 300 s/,
    )
    const tampered = deliveryBody.replace('"attempt":1', '"attempt":2')
    expect(await reasonOf(tampered, { 'weft-signature': header })).toMatch(/does not match/)
    const reserialized = JSON.stringify(JSON.parse(deliveryBody), null, 2)
    expect(await reasonOf(reserialized, { 'weft-signature': header })).toMatch(/does not match/)
    const notADelivery = JSON.stringify({ hello: 'world' })
    const signed = await signWebhook([NEW_SECRET], notADelivery, nowSec)
    expect(await reasonOf(notADelivery, { 'weft-signature': signed })).toMatch(/has no endpoint/)
  })

  it('checks its own arguments', async () => {
    const call = (options: Record<string, unknown>) =>
      verifyWebhookRequest({ body: deliveryBody, headers: {}, secret: 's', ...options } as never)
    await expect(call({ body: { parsed: true } })).rejects.toThrow(/INVALID_ARGUMENT: body/)
    await expect(call({ headers: null })).rejects.toThrow(/INVALID_ARGUMENT: headers/)
    await expect(call({ secret: [] })).rejects.toThrow(/INVALID_ARGUMENT: secret/)
  })
})

describe('parseWebhookDelivery', () => {
  it('refuses bodies that are not a delivery, naming the problem', () => {
    const problem = (body: unknown): string => {
      try {
        parseWebhookDelivery(typeof body === 'string' ? body : JSON.stringify(body))
        return 'parsed'
      } catch (error) {
        if (!isWeftError(error, 'INVALID_ARGUMENT')) throw error
        return error.message
      }
    }
    const valid = JSON.parse(deliveryBody) as Record<string, unknown>
    expect(problem(valid)).toBe('parsed')
    expect(problem('{')).toMatch(/not JSON/)
    expect(problem([])).toMatch(/not an object/)
    expect(problem({ ...valid, delivery: '' })).toMatch(/no delivery id/)
    expect(problem({ ...valid, attempt: 0 })).toMatch(/attempt/)
    expect(problem({ ...valid, events: {} })).toMatch(/no events array/)
    expect(problem({ ...valid, events: [{ ...event(1), id: '2' }] })).toMatch(
      /events\[0\]\.id is not its position/,
    )
    expect(problem({ ...valid, events: [{ ...event(1), kind: 'moved' }] })).toMatch(/kind/)
    expect(problem({ ...valid, events: [{ ...event(1), events: [1] }] })).toMatch(
      /events\[0\]\.events\[0\]/,
    )
  })
})

describe('webhooks from a relay', () => {
  it('arrive signed, verify against the raw body in a Node http server, and retry with the same delivery id', async () => {
    relay = await startApiRelay()
    const received: Array<{ delivery: WebhookDelivery; header: string | undefined }> = []
    const refusals: string[] = []
    let failFirst = true
    let delivered = (): void => {}
    const twoDelivered = new Promise<void>((resolve) => (delivered = resolve))
    const url = await startReceiver([NEW_SECRET], received, refusals, () => {
      if (received.length >= 2) delivered()
      if (!failFirst) return 204
      failFirst = false
      return 500
    })
    dispatcher = new WebhookDispatcher({
      feed: relay.relay.feed,
      store: relay.store,
      endpoints: [
        {
          id: 'estimator',
          url,
          secrets: [NEW_SECRET, OLD_SECRET],
          docs: ['boards/*'],
          initialBackoffMs: 10,
          start: 'oldest',
        },
      ],
    })
    await dispatcher.start()
    const service = new WeftServiceClient({ url: relay.httpUrl, token: await writeToken('svc') })
    await service.changeRecords('boards/1', [
      { op: 'create', collection: 'tasks', id: 't1', fields: { title: 'a', status: 'todo' } },
    ])
    await withTimeout(twoDelivered, 10_000, 'the delivery, failed once then retried')
    expect(refusals).toEqual([])
    const [first, second] = received
    expect(second?.delivery.delivery).toBe(first?.delivery.delivery)
    expect(second?.header).toBe(first?.delivery.delivery)
    expect([first?.delivery.attempt, second?.delivery.attempt]).toEqual([1, 2])
    expect(second?.delivery.endpoint).toBe('estimator')
    // The same events as the feed gives, ids and all.
    const page = await service.readFeed()
    expect(second?.delivery.events).toEqual(page.events)
    expect(page.events[0]?.events[0]).toMatchObject({ type: 'record.created', id: 't1' })
  })
})
