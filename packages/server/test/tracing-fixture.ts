/**
 * Tracing tests' setup: the relay's spans go to an in-memory exporter through the global tracer
 * provider (as an app's SDK would install it), and a webhook receiver on loopback records each
 * delivery's `traceparent`.
 */
import { EventEmitter } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { propagation, trace } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base'
import { until, type TestRelay } from '@weft/testkit'
import * as Y from 'yjs'
import { WebhookDispatcher } from '../src/webhook-dispatcher.js'
import { afterAll, beforeAll } from 'vitest'

/** Spans kept in memory, with an event as each one ends (so tests await spans, not poll). */
export class SpanSink {
  readonly exporter = new InMemorySpanExporter()
  readonly ended = new EventEmitter()
  readonly provider: BasicTracerProvider

  constructor() {
    this.provider = new BasicTracerProvider({
      spanProcessors: [
        new SimpleSpanProcessor(this.exporter),
        {
          onStart: () => {},
          onEnd: () => this.ended.emit('span'),
          forceFlush: async () => {},
          shutdown: async () => {},
        },
      ],
    })
  }

  spans(): ReadableSpan[] {
    return this.exporter.getFinishedSpans()
  }

  /** Resolves with the first ended span that `accept` takes. */
  async where(accept: (span: ReadableSpan) => boolean): Promise<ReadableSpan> {
    await until(
      this.ended,
      'span',
      () => this.spans().some(accept),
      () => 'a matching span',
      5_000,
    )
    return this.spans().find(accept) as ReadableSpan
  }
}

/** Makes `sink` the process's global tracer provider, with W3C propagation; returns the undo. */
export const installGlobally = (sink: SpanSink): (() => void) => {
  trace.setGlobalTracerProvider(sink.provider)
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  return () => {
    trace.disable()
    propagation.disable()
  }
}

/**
 * The relay's spans for a test file: a sink installed as the global tracer provider for the
 * file's tests (an app's SDK would install it so), uninstalled after them.
 */
export const useGlobalSpans = (): SpanSink => {
  const sink = new SpanSink()
  let uninstall: () => void = () => {}
  beforeAll(() => {
    uninstall = installGlobally(sink)
  })
  afterAll(() => uninstall())
  return sink
}

export const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId
export const idOf = (span: ReadableSpan): string => span.spanContext().spanId
export const traceOf = (span: ReadableSpan): string => span.spanContext().traceId
/** `00-<trace>-<span>-<flags>` → [trace, span]. */
export const parts = (traceparent: string | undefined): string[] =>
  (traceparent ?? '').split('-').slice(1, 3)
/** A span's start or end in milliseconds since the epoch. */
export const msOf = (time: readonly [number, number]): number => time[0] * 1000 + time[1] / 1e6

/** One webhook delivery: its `traceparent` header and events. */
export interface Delivery {
  readonly traceparent: string | undefined
  readonly events: Array<{ doc: string; author: string; traceparent?: string }>
}

/** A webhook receiver on loopback, answering 200 to every delivery. */
export const startReceiver = async (): Promise<{
  url: string
  deliveries: Delivery[]
  received: EventEmitter
  close: () => Promise<void>
}> => {
  const deliveries: Delivery[] = []
  const received = new EventEmitter()
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const { events } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Delivery
      const header = request.headers['traceparent']
      deliveries.push({ traceparent: typeof header === 'string' ? header : undefined, events })
      response.writeHead(200).end()
      received.emit('delivery')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries,
    received,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** A webhook receiver, and endpoint `indexer` of `relay` delivering to it; both stop via `cleanups`. */
export const deliverToReceiver = async (
  relay: TestRelay,
  cleanups: Array<() => Promise<void>>,
): Promise<Awaited<ReturnType<typeof startReceiver>>> => {
  const receiver = await startReceiver()
  cleanups.push(receiver.close)
  const dispatcher = new WebhookDispatcher({
    feed: relay.relay.feed,
    store: relay.store,
    endpoints: [{ id: 'indexer', url: receiver.url, secrets: ['a-webhook-secret-for-tests'] }],
  })
  await dispatcher.start()
  cleanups.push(() => dispatcher.close())
  return receiver
}

/**
 * A service's write-back after a delivery: sets `meta.indexed` on `notes` over HTTP under
 * `traceparent`; resolves with the answer's status.
 */
export const writeBack = async (relay: TestRelay, traceparent: string): Promise<number> => {
  const update = new Y.Doc()
  update.getMap('meta').set('indexed', true)
  const answer = await fetch(`${relay.httpUrl}/v1/docs/notes/update`, {
    method: 'POST',
    headers: { traceparent },
    body: Buffer.from(Y.encodeStateAsUpdate(update)),
  })
  return answer.status
}
