import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClient } from '@weft/client'
import {
  childSpanNames,
  spawnRelay,
  startOtlpReceiver,
  type OtlpReceiver,
  type RelayProcess,
} from '@weft/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c'
const CLIENT_SPAN = 'b7ad6b7169203331'

let dataDir: string
let receiver: OtlpReceiver
let relay: RelayProcess | undefined
const saved = { ...process.env }

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'weft-otlp-'))
  receiver = await startOtlpReceiver()
  // The relay inherits these: batches leave after 50 ms rather than 5 s.
  process.env['OTEL_BSP_SCHEDULE_DELAY'] = '50'
})

afterEach(async () => {
  if (relay !== undefined && relay.child.exitCode === null) await relay.stop('SIGKILL')
  relay = undefined
  process.env = { ...saved }
  await receiver.close()
  await rm(dataDir, { recursive: true, force: true })
})

/** A client edit under the trace `TRACE_ID`, saved by the relay. */
const edit = async (url: string): Promise<void> => {
  const traceparent = `00-${TRACE_ID}-${CLIENT_SPAN}-01`
  const client = createClient({ url: `${url}/?traceparent=${traceparent}`, WebSocket })
  const handle = client.open('exported')
  handle.doc.getText('t').insert(0, 'hello')
  await handle.whenSaved()
  await client.close()
}

describe('the relay exporting spans over OTLP', { timeout: 20_000 }, () => {
  it('posts the spans of a client edit to --otlp-endpoint, in the client trace', async () => {
    relay = await spawnRelay(MAIN, dataDir, ['--otlp-endpoint', `${receiver.url}/`])
    await edit(relay.url)
    // Protobuf carries the trace id as its 16 bytes and the names as UTF-8.
    const body = await receiver.until(Buffer.from(TRACE_ID, 'hex'))
    expect(body.includes(Buffer.from('weft.update'))).toBe(true)
    expect(body.includes(Buffer.from('weft.persist'))).toBe(true)
    expect(body.includes(Buffer.from('weft-relay'))).toBe(true)
    // The update's span continues the client's: its parent is the client's span.
    expect(childSpanNames(body, CLIENT_SPAN)).toContain('weft.update')
    const request = receiver.requests.find((each) => each.body === body)
    expect(request?.path).toBe('/v1/traces')
    expect(request?.type).toBe('application/x-protobuf')
    expect(await relay.stop('SIGTERM')).toBe(0)
  })

  it('takes the endpoint and service name from the OTEL_* variables', async () => {
    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = receiver.url
    process.env['OTEL_SERVICE_NAME'] = 'relay-eu-1'
    relay = await spawnRelay(MAIN, dataDir)
    await edit(relay.url)
    const body = await receiver.until(Buffer.from(TRACE_ID, 'hex'))
    expect(body.includes(Buffer.from('relay-eu-1'))).toBe(true)
    expect(body.includes(Buffer.from('weft-relay'))).toBe(false)
  })

  it('sends nothing without an endpoint, up to and through a clean stop', async () => {
    delete process.env['OTEL_EXPORTER_OTLP_ENDPOINT']
    delete process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']
    relay = await spawnRelay(MAIN, dataDir)
    await edit(relay.url)
    expect(await relay.stop('SIGTERM')).toBe(0)
    expect(relay.output()).not.toContain('exporting spans')
    expect(receiver.requests).toEqual([])
  })
})
