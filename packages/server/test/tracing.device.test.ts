/**
 * One trace from a device's edit to the services it wakes: the client's own tracer provider and
 * the relay's (the global one) each export to memory, as two processes would, and the trace id
 * runs through both.
 */
import { SpanStatusCode } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import {
  RawSocket,
  startTestRelay,
  tabLocks,
  testClient,
  until,
  type TestRelay,
} from '@weft/testkit'
import { encodeMessage, traceFrame } from '@weft/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import {
  idOf,
  msOf,
  parentOf,
  parts,
  SpanSink,
  deliverToReceiver,
  traceOf,
  useGlobalSpans,
  writeBack,
  type Delivery,
} from './tracing-fixture.js'

const relaySide = useGlobalSpans()

let relay: TestRelay | undefined
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await relay?.close()
  relay = undefined
  relaySide.exporter.reset()
})

/** A client whose spans go to a sink of its own, as on a device. */
const deviceClient = (target: TestRelay): { sink: SpanSink; open: (name: string) => DocOf } => {
  const sink = new SpanSink()
  const client = testClient(target, { tracing: { tracerProvider: sink.provider } })
  return { sink, open: (name) => client.open(name) }
}
type DocOf = ReturnType<ReturnType<typeof testClient>['open']>

const eventTime = (span: ReadableSpan, name: string): number => {
  const event = span.events.find((candidate) => candidate.name === name)
  expect(event, `${span.name} has a ${name} event`).toBeDefined()
  return msOf(event?.time ?? [0, 0])
}

describe('a trace from the device', () => {
  it('runs from the client edit through the relay, saved, the feed and a webhook to the write-back', async () => {
    relay = await startTestRelay({ historyMs: 60_000, httpApi: true })
    const receiver = await deliverToReceiver(relay, cleanups)
    const device = deviceClient(relay)
    const handle = device.open('notes')
    await handle.whenSynced()

    // 1. The edit: a weft.edit span on the device, ended once saved.
    handle.doc.getText('t').insert(0, 'hello')
    await handle.whenSaved()
    const edit = await device.sink.where((span) => span.name === 'weft.edit')
    const traceId = traceOf(edit)
    expect(edit.attributes).toMatchObject({ 'weft.doc': 'notes', 'weft.ref': 1 })
    expect(edit.status.code).not.toBe(SpanStatusCode.ERROR)
    expect(parentOf(edit)).toBeUndefined()

    // 2. The relay's spans for it are children of the device's span, in the same trace.
    const update = await relaySide.where(
      (span) => span.name === 'weft.update' && parentOf(span) === idOf(edit),
    )
    expect(traceOf(update)).toBe(traceId)
    const children = relaySide.spans().filter((span) => parentOf(span) === idOf(update))
    const child = (name: string): ReadableSpan => {
      const found = children.find((span) => span.name === name)
      expect(found, name).toBeDefined()
      return found as ReadableSpan
    }
    const [apply, persist, ack] = [child('weft.apply'), child('weft.persist'), child('weft.ack')]
    // In order: edit → sent → relay receive → apply → persist → ack → saved at the device. Span
    // times are anchored per span (to the millisecond here): a millisecond of slack.
    const inOrder = (...times: number[]): void => {
      for (let index = 1; index < times.length; index += 1) {
        expect(times[index - 1], `step ${index}`).toBeLessThanOrEqual((times[index] as number) + 1)
      }
    }
    inOrder(
      msOf(edit.startTime),
      eventTime(edit, 'weft.sent'),
      msOf(update.startTime),
      msOf(apply.startTime),
      msOf(apply.endTime),
      msOf(persist.startTime),
      msOf(persist.endTime),
      msOf(ack.startTime),
      eventTime(edit, 'weft.saved'),
      msOf(edit.endTime),
    )

    // 3. The feed event and the webhook delivery continue the device's trace.
    await until(receiver.received, 'delivery', () => receiver.deliveries.length >= 1)
    const first = receiver.deliveries[0] as Delivery
    expect(parts(first.events[0]?.traceparent)).toEqual([traceId, idOf(update)])
    const [deliveryTrace, deliverySpan] = parts(first.traceparent)
    expect(deliveryTrace).toBe(traceId)
    const webhook = await relaySide.where((span) => span.name === 'weft.webhook')
    expect(parentOf(webhook)).toBe(idOf(update))
    inOrder(msOf(persist.endTime), msOf(webhook.startTime))

    // 4. The service's write-back over HTTP joins it too.
    expect(await writeBack(relay, first.traceparent as string)).toBe(200)
    const http = await relaySide.where(
      (span) => span.name === 'weft.http' && parentOf(span) === deliverySpan,
    )
    const written = await relaySide.where(
      (span) => span.name === 'weft.update' && parentOf(span) === idOf(http),
    )
    expect([traceOf(http), traceOf(written)]).toEqual([traceId, traceId])
    inOrder(msOf(webhook.startTime), msOf(http.startTime), msOf(written.startTime))
    // The device sees the write-back arrive.
    await until(handle.doc, 'update', () => handle.doc.getMap('meta').get('indexed') === true)
  })

  it('sends a batch with each edit’s context: the relay parents on the newest and links the other', async () => {
    relay = await startTestRelay()
    const device = deviceClient(relay)
    const handle = device.open('notes')
    await handle.whenSynced()
    // Two transactions in one tick leave in one `updates` frame.
    handle.doc.getText('t').insert(0, 'a')
    handle.doc.getText('t').insert(1, 'b')
    await handle.whenSaved()
    const edits = device.sink.spans().filter((span) => span.name === 'weft.edit')
    expect(edits.map((span) => span.attributes['weft.ref'])).toEqual([1, 2])
    const [older, newer] = edits as [ReadableSpan, ReadableSpan]
    const update = await relaySide.where(
      (span) => span.name === 'weft.update' && parentOf(span) === idOf(newer),
    )
    expect(update.attributes['weft.updates']).toBe(2)
    expect(update.links.map((link) => link.context.spanId)).toEqual([idOf(older)])
  })

  it('carries the contexts of edits made offline in the sync answer after reconnecting', async () => {
    relay = await startTestRelay()
    const device = deviceClient(relay)
    const handle = device.open('notes')
    await handle.whenSynced()
    handle.doc.getText('t').insert(0, 'online')
    await handle.whenSaved()
    const port = relay.port
    await relay.close()
    handle.doc.getText('t').insert(0, 'offline ')
    relay = await startTestRelay({ port })
    await handle.whenSaved()
    const edits = device.sink.spans().filter((span) => span.name === 'weft.edit')
    expect(edits).toHaveLength(2)
    const offline = edits[1] as ReadableSpan
    const update = await relaySide.where(
      (span) => span.name === 'weft.update' && parentOf(span) === idOf(offline),
    )
    expect(traceOf(update)).toBe(traceOf(offline))
    expect(offline.events.filter((event) => event.name === 'weft.sent').length).toBeGreaterThan(0)
  })

  it('carries a tab’s edit context through the tab holding the connection', async () => {
    relay = await startTestRelay()
    const group = `tabs-${Math.random()}`
    const tabs = { locks: tabLocks(), BroadcastChannel, group }
    const hub = testClient(relay, { tabs })
    const hubHandle = hub.open('notes')
    await hubHandle.whenSynced()
    const sink = new SpanSink()
    const other = testClient(relay, { tabs, tracing: { tracerProvider: sink.provider } })
    const handle = other.open('notes')
    await handle.whenSynced()
    expect(relay.relay.connectionCount).toBe(1)
    handle.doc.getText('t').insert(0, 'from the other tab')
    await handle.whenSaved()
    const edit = await sink.where((span) => span.name === 'weft.edit')
    const update = await relaySide.where(
      (span) => span.name === 'weft.update' && parentOf(span) === idOf(edit),
    )
    expect(traceOf(update)).toBe(traceOf(edit))
    expect(edit.events.map((event) => event.name)).toEqual(['weft.sent', 'weft.saved'])
  })

  it('traces at most 1,000 unsaved edits of a document, and traces again once they are saved', async () => {
    relay = await startTestRelay()
    const port = relay.port
    const device = deviceClient(relay)
    const handle = device.open('notes')
    await handle.whenSynced()
    await relay.close()
    // A long time offline: 1,100 edits, of which the first 1,000 are traced.
    const text = handle.doc.getText('t')
    for (let index = 0; index < 1_100; index += 1) text.insert(text.length, 'x')
    relay = await startTestRelay({ port })
    await handle.whenSaved()
    const edits = (): ReadableSpan[] =>
      device.sink.spans().filter((span) => span.name === 'weft.edit')
    await until(device.sink.ended, 'span', () => edits().length >= 1_000)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(edits()).toHaveLength(1_000)
    expect(edits().every((span) => span.events.some((event) => event.name === 'weft.saved'))).toBe(
      true,
    )
    text.insert(0, 'y')
    await handle.whenSaved()
    await until(device.sink.ended, 'span', () => edits().length === 1_001)
  })

  it('ends a refused edit’s span as failed, with the code', async () => {
    relay = await startTestRelay({ maxDocBytes: 64 * 1024 })
    const device = deviceClient(relay)
    const handle = device.open('notes')
    await handle.whenSynced()
    handle.doc.getText('t').insert(0, 'x'.repeat(128 * 1024))
    await expect(handle.whenSaved()).rejects.toMatchObject({ code: 'DOC_TOO_LARGE' })
    const edit = await device.sink.where((span) => span.name === 'weft.edit')
    expect(edit.status.code).toBe(SpanStatusCode.ERROR)
    expect(edit.attributes['weft.error']).toBe('DOC_TOO_LARGE')
  })

  it('traces nothing on the device with tracing off, and the relay keeps the socket’s context', async () => {
    relay = await startTestRelay()
    const sink = new SpanSink()
    const client = testClient(relay, { tracing: false })
    const handle = client.open('notes')
    handle.doc.getText('t').insert(0, 'x')
    await handle.whenSaved()
    expect(sink.spans()).toEqual([])
    const update = await relaySide.where((span) => span.name === 'weft.update')
    expect(parentOf(update)).toBeUndefined()
    expect(update.links).toEqual([])
  })
})

describe('traced frames at the relay', () => {
  it('are a protocol violation below version 4', async () => {
    relay = await startTestRelay()
    const socket = await RawSocket.weft(relay.url, 3)
    cleanups.push(async () => socket.close())
    const context = { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), flags: 1 }
    const update = { type: 'update' as const, doc: 'n', ref: 1, update: new Uint8Array([0, 0]) }
    socket.send(encodeMessage(traceFrame(update, [context])))
    const closed = await socket.closed
    expect(closed.code).toBe(4409)
  })
})
