/**
 * A page for the traced-tabs browser test: a Weft client on the profile's shared IndexedDB store
 * (so its tabs share one relay connection through the leading tab), traced by the OpenTelemetry
 * SDK into an in-memory exporter that the test reads.
 */
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { createClient } from '@weft/client'
import { LevelLocalStore } from '@weft/client/level'
import type { TracedTabApi } from './page-api.js'

const exporter = new InMemorySpanExporter()
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(exporter)],
})
const docName = new URLSearchParams(location.search).get('doc') ?? 'traced'
const store = await LevelLocalStore.open({ location: 'weft-traced-tabs' })
const client = createClient({
  url: `ws://${location.host}`,
  store,
  clientName: 'traced-tabs',
  tracing: { tracerProvider },
})
const handle = client.open(docName)
await handle.whenLoaded()

const api: TracedTabApi = {
  state: () => handle.status.state,
  text: () => handle.doc.getText('t').toString(),
  edit: async (text) => {
    handle.doc.getText('t').insert(0, text)
    await handle.whenSaved()
  },
  spans: () =>
    exporter.getFinishedSpans().map((span) => ({
      name: span.name,
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      events: span.events.map((event) => event.name),
      status: span.status.code,
    })),
}
Object.assign(window, { tracedTab: api })
