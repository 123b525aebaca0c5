import { ROOT_CONTEXT, trace } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { startTestRelay, testClient, until, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  idOf,
  parentOf,
  parts,
  deliverToReceiver,
  traceOf,
  useGlobalSpans,
  writeBack,
  type Delivery,
} from './tracing-fixture.js'

const TRACE_ID = '5c1f3e8a9b7d4c2e8f6a0b1c2d3e4f50'
const CLIENT_SPAN = '1a2b3c4d5e6f7081'

const sink = useGlobalSpans()
const { exporter, ended } = sink
const spans = (): ReadableSpan[] => sink.spans()
/** Resolves with the first ended span that `accept` takes. */
const spanWhere = (accept: (span: ReadableSpan) => boolean): Promise<ReadableSpan> =>
  sink.where(accept)

let relay: TestRelay | undefined
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await relay?.close()
  relay = undefined
  exporter.reset()
})

describe('one trace across the relay, the change feed, webhooks and the HTTP API', () => {
  it('follows an edit from the socket to the webhook delivery, and a write-back over HTTP into the same trace', async () => {
    relay = await startTestRelay({ historyMs: 60_000, httpApi: true })
    const receiver = await deliverToReceiver(relay, cleanups)

    // 1. A client edit under its own trace.
    const traceparent = `00-${TRACE_ID}-${CLIENT_SPAN}-01`
    // The client's own spans off: the socket's traceparent is the parent of its edits.
    const url = `${relay.url}/?traceparent=${traceparent}`
    const handle = testClient(relay, { url, tracing: false }).open('notes')
    handle.doc.getText('t').insert(0, 'hello')
    await handle.whenSaved()
    const update = await spanWhere(
      (span) => span.name === 'weft.update' && parentOf(span) === CLIENT_SPAN,
    )
    expect(traceOf(update)).toBe(TRACE_ID)
    const children = spans().filter((span) => parentOf(span) === idOf(update))
    expect(children.map((span) => span.name)).toEqual(
      expect.arrayContaining(['weft.apply', 'weft.persist']),
    )

    // 2. Its feed event carries the update span's context, and the delivery continues it.
    await until(receiver.received, 'delivery', () => receiver.deliveries.length >= 1)
    const first = receiver.deliveries[0] as Delivery
    expect(first.events.map((event) => event.doc)).toEqual(['notes'])
    expect(parts(first.events[0]?.traceparent)).toEqual([TRACE_ID, idOf(update)])
    const [deliveryTrace, deliverySpan] = parts(first.traceparent)
    expect(deliveryTrace).toBe(TRACE_ID)
    const webhook = await spanWhere((span) => span.name === 'weft.webhook')
    expect(idOf(webhook)).toBe(deliverySpan)
    expect(parentOf(webhook)).toBe(idOf(update))
    expect(webhook.attributes['weft.webhook.endpoint']).toBe('indexer')

    // 3. The service writes back over HTTP with the delivery's traceparent.
    expect(await writeBack(relay, first.traceparent as string)).toBe(200)
    const http = await spanWhere(
      (span) => span.name === 'weft.http' && parentOf(span) === deliverySpan,
    )
    expect(traceOf(http)).toBe(TRACE_ID)
    expect(http.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/v1/docs/notes/update',
      'http.response.status_code': 200,
    })
    const written = await spanWhere(
      (span) => span.name === 'weft.update' && parentOf(span) === idOf(http),
    )
    expect(traceOf(written)).toBe(TRACE_ID)
    expect(written.attributes['enduser.id']).toBe('anonymous')

    // 4. Its own feed event and delivery stay in the trace.
    await until(receiver.received, 'delivery', () => receiver.deliveries.length >= 2)
    const second = receiver.deliveries[1] as Delivery
    expect(parts(second.events[0]?.traceparent)).toEqual([TRACE_ID, idOf(written)])
    expect(parts(second.traceparent)[0]).toBe(TRACE_ID)
    // The HTTP feed shows the same context.
    const feed = (await (await fetch(`${relay.httpUrl}/v1/feed`)).json()) as {
      events: Array<{ traceparent?: string }>
    }
    expect(feed.events.map((event) => parts(event.traceparent)[1])).toEqual([
      idOf(update),
      idOf(written),
    ])
  })

  it('traces writes through relay.documents under the context they are given', async () => {
    relay = await startTestRelay({ historyMs: 60_000 })
    const job = trace.getTracer('a-service').startSpan('reindex')
    const traceContext = trace.setSpan(ROOT_CONTEXT, job)
    const { traceId, spanId } = job.spanContext()
    const update = new Y.Doc()
    update.getText('t').insert(0, 'x')
    const writer = { service: 'indexer', traceContext }
    await relay.relay.documents.applyUpdate('jobs', Y.encodeStateAsUpdate(update), writer)
    const opened = await relay.relay.documents.open('jobs', writer)
    await opened.transact((doc) => doc.getText('t').insert(0, 'y'))
    await opened.close()
    job.end()

    const under = (span: ReadableSpan): boolean =>
      span.name === 'weft.update' && parentOf(span) === spanId
    await until(ended, 'span', () => spans().filter(under).length >= 2)
    const writes = spans().filter(under)
    expect(writes.map(traceOf)).toEqual([traceId, traceId])
    expect(writes.map((span) => span.attributes['enduser.id'])).toEqual([
      'service:indexer',
      'service:indexer',
    ])
    for (const write of writes) {
      const persisted = spans().filter((span) => parentOf(span) === idOf(write))
      expect(persisted.map((span) => span.name)).toContain('weft.persist')
    }
    const { entries } = await relay.relay.feed.read()
    expect(entries.map((entry) => parts(entry.traceparent))).toEqual(
      writes.map((write) => [traceId, idOf(write)]),
    )
  })

  it('gives an API request without traceparent a trace of its own, and other paths no span', async () => {
    relay = await startTestRelay({ httpApi: true })
    expect((await fetch(`${relay.httpUrl}/elsewhere`)).status).toBe(404)
    expect((await fetch(`${relay.httpUrl}/v1/docs/missing`)).status).toBe(404)
    const http = await spanWhere((span) => span.name === 'weft.http')
    expect(http.attributes).toMatchObject({
      'url.path': '/v1/docs/missing',
      'http.response.status_code': 404,
    })
    expect(parentOf(http)).toBeUndefined()
    expect(spans().filter((span) => span.name === 'weft.http')).toHaveLength(1)
  })
})
