/**
 * An OTLP/HTTP receiver on loopback for tests of span export: it keeps each request's path,
 * content type and body, and finds the spans a relay exported in them (protobuf, as the relay
 * sends them).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What a test reads of one exported request. */
export interface OtlpRequest {
  readonly path: string
  readonly type: string
  readonly body: Buffer
}

/** A receiver of OTLP/HTTP exports. */
export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>`: an `--otlp-endpoint` or `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly url: string
  readonly requests: readonly OtlpRequest[]
  /** Resolves with the first request body holding `bytes` (rejects after `timeoutMs`). */
  until(bytes: Buffer, timeoutMs?: number): Promise<Buffer>
  close(): Promise<void>
}

export const startOtlpReceiver = async (): Promise<OtlpReceiver> => {
  const requests: OtlpRequest[] = []
  const waiters: Array<() => void> = []
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      requests.push({
        path: request.url ?? '',
        type: request.headers['content-type'] ?? '',
        body: Buffer.concat(chunks),
      })
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
      for (const wake of waiters.splice(0)) wake()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const found = (bytes: Buffer): Buffer | undefined =>
    requests.find((request) => request.body.includes(bytes))?.body
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    until: (bytes, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no exported span held the bytes within ${timeoutMs} ms`)),
          timeoutMs,
        )
        const check = (): void => {
          const body = found(bytes)
          if (body === undefined) return void waiters.push(check)
          clearTimeout(timer)
          resolve(body)
        }
        check()
      }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/**
 * The names of the spans in an OTLP protobuf `body` whose parent is span `parentSpanId` (16 hex
 * digits). A span's fields are written in the order of the OTLP schema: trace id (1), span id
 * (2), trace state (3, when set), parent span id (4), flags (16, when set), name (5); so a child
 * of the span shows as the parent id's field followed, after the flags, by the name's.
 */
export const childSpanNames = (body: Buffer, parentSpanId: string): string[] => {
  const parentField = Buffer.concat([Buffer.from([0x22, 0x08]), Buffer.from(parentSpanId, 'hex')])
  const names: string[] = []
  for (let at = body.indexOf(parentField); at >= 0; at = body.indexOf(parentField, at + 1)) {
    let next = at + parentField.length
    // flags: field 16, fixed32 (tag bytes 0x85 0x01, then four bytes).
    if (body[next] === 0x85 && body[next + 1] === 0x01) next += 6
    if (body[next] !== 0x2a) continue
    const length = body[next + 1]!
    if (length >= 0x80) continue
    names.push(body.subarray(next + 2, next + 2 + length).toString('utf8'))
  }
  return names
}
