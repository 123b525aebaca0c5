import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { RawSocket, startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { parentOf, useGlobalSpans } from './tracing-fixture.js'

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const CLIENT_SPAN = '00f067aa0ba902b7'

const { exporter } = useGlobalSpans()

let relay: TestRelay | undefined
afterEach(async () => {
  await relay?.close()
  relay = undefined
  exporter.reset()
})

describe('OpenTelemetry spans', () => {
  it('trace receive → apply → fan-out → persist → ack, under the client trace from traceparent', async () => {
    relay = await startTestRelay()
    const traceparent = `00-${TRACE_ID}-${CLIENT_SPAN}-01`
    // Without spans of its own, the client's socket carries its trace (the device's own spans:
    // tracing.device.test.ts).
    const client = testClient(relay, {
      url: `${relay.url}/?traceparent=${traceparent}`,
      tracing: false,
    })
    const handle = client.open('traced')
    await handle.whenSynced()
    // A second peer, so the update fans out.
    const watcher = await RawSocket.open(`${relay.url}/traced`, false)
    // It has joined once the relay sent it something (its sync step 1).
    for (let waited = 0; watcher.frames.length === 0; waited += 5) {
      if (waited > 5_000) throw new Error('the y-websocket peer never joined')
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    handle.doc.getText('t').insert(0, 'hello')
    await handle.whenSaved()
    watcher.close()

    const spans = exporter.getFinishedSpans()
    const updates = spans.filter(
      (span) => span.name === 'weft.update' && span.attributes['weft.updates'] === 1,
    )
    expect(updates.length).toBeGreaterThanOrEqual(1)
    const update = updates.find((span) => span.attributes['weft.dialect'] === 'weft')
    expect(update).toBeDefined()
    const root = update as ReadableSpan
    expect(root.spanContext().traceId).toBe(TRACE_ID)
    expect(parentOf(root)).toBe(CLIENT_SPAN)
    expect(root.attributes).toMatchObject({ 'weft.doc': 'traced', 'enduser.id': 'anonymous' })
    const children = spans.filter((span) => parentOf(span) === root.spanContext().spanId)
    expect(children.map((span) => span.name).sort()).toEqual([
      'weft.ack',
      'weft.apply',
      'weft.fanout',
      'weft.persist',
    ])
    const fanout = children.find((span) => span.name === 'weft.fanout')
    expect(fanout?.attributes['weft.peers']).toBe(1)
    // The update span covers its children: it ends with the ack. (Its start is the receipt time,
    // in milliseconds, and the SDK anchors its clock there: allow 2 ms between the clocks.)
    const end = (span: ReadableSpan): number => span.endTime[0] * 1e9 + span.endTime[1]
    for (const child of children) expect(end(child)).toBeLessThanOrEqual(end(root) + 2e6)
  })

  it('starts a new trace when the client sends no traceparent', async () => {
    relay = await startTestRelay()
    const handle = testClient(relay, { tracing: false }).open('untraced')
    handle.doc.getText('t').insert(0, 'x')
    await handle.whenSaved()
    const update = exporter.getFinishedSpans().find((span) => span.name === 'weft.update')
    expect(update).toBeDefined()
    expect(parentOf(update as ReadableSpan)).toBeUndefined()
  })
})
