import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { startTestRelay, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { idOf, parentOf, parts, traceOf, useGlobalSpans } from './tracing-fixture.js'

const TRACE_ID = '7d2e4f6a8b0c1d3e5f708192a3b4c5d6'
const OPERATOR_SPAN = '0f1e2d3c4b5a6978'
const ADMIN_TOKEN = 'an-admin-token-for-tests'

const sink = useGlobalSpans()
const { exporter } = sink
const spans = (): ReadableSpan[] => sink.spans()
/** Resolves with the first ended span that `accept` takes. */
const spanWhere = (accept: (span: ReadableSpan) => boolean): Promise<ReadableSpan> =>
  sink.where(accept)

let relay: TestRelay | undefined

afterEach(async () => {
  await relay?.close()
  relay = undefined
  exporter.reset()
})

/**
 * Sends an admin request under the operator's trace; resolves with its `weft.http` span and the
 * `weft.update` span of the write it made.
 */
const adminWrite = async (
  method: string,
  path: string,
  body?: Uint8Array,
): Promise<{ http: ReadableSpan; update: ReadableSpan }> => {
  const answer = await fetch(`${relay?.httpUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      traceparent: `00-${TRACE_ID}-${OPERATOR_SPAN}-01`,
    },
    ...(body === undefined ? {} : { body: Buffer.from(body) }),
  })
  expect(answer.status).toBeLessThan(300)
  const http = await spanWhere(
    (span) =>
      span.name === 'weft.http' &&
      parentOf(span) === OPERATOR_SPAN &&
      span.attributes['http.request.method'] === method,
  )
  const update = await spanWhere(
    (span) => span.name === 'weft.update' && parentOf(span) === idOf(http),
  )
  return { http, update }
}

describe('admin writes in the operator request’s trace', () => {
  it('starts an import’s and a restore’s write under the request’s weft.http span, and their feed events name it', async () => {
    relay = await startTestRelay({ historyMs: 60_000, httpApi: { adminToken: ADMIN_TOKEN } })
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'first draft')
    const imported = await adminWrite('PUT', '/admin/docs/notes', Y.encodeStateAsUpdate(doc))
    expect(traceOf(imported.http)).toBe(TRACE_ID)
    expect(imported.http.attributes['url.path']).toBe('/admin/docs/notes')
    expect(traceOf(imported.update)).toBe(TRACE_ID)
    expect(imported.update.attributes['enduser.id']).toBe('admin:admin-api')
    const persisted = spans().filter((span) => parentOf(span) === idOf(imported.update))
    expect(persisted.map((span) => span.name)).toContain('weft.persist')

    const draftAtMs = Date.now()
    // The edit to undo is received after the time to restore (a millisecond later at least).
    while (Date.now() <= draftAtMs) await new Promise((resolve) => setImmediate(resolve))
    const edit = new Y.Doc()
    Y.applyUpdate(edit, Y.encodeStateAsUpdate(doc))
    edit.getText('t').insert(0, 'rewritten: ')
    await relay.relay.documents.applyUpdate(
      'notes',
      Y.encodeStateAsUpdate(edit, Y.encodeStateVector(doc)),
      { service: 'editor' },
    )
    exporter.reset()
    const restored = await adminWrite('POST', `/admin/docs/notes/restore?at=${draftAtMs}`)
    expect(traceOf(restored.update)).toBe(TRACE_ID)
    expect(restored.http.attributes['url.path']).toBe('/admin/docs/notes/restore')
    expect(await relay.relay.documents.json('notes', { raw: true })).toMatchObject({
      content: { t: 'first draft' },
    })

    const { entries } = await relay.relay.feed.read()
    const traced = entries.map((entry) => [entry.author, ...parts(entry.traceparent)])
    expect(traced[0]).toEqual(['admin:admin-api', TRACE_ID, idOf(imported.update)])
    expect(traced.at(-1)).toEqual(['admin:admin-api', TRACE_ID, idOf(restored.update)])
  })

  it('names the request’s weft.http span in a deletion’s feed event', async () => {
    relay = await startTestRelay({ historyMs: 60_000, httpApi: { adminToken: ADMIN_TOKEN } })
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'to go')
    await relay.relay.documents.applyUpdate('old', Y.encodeStateAsUpdate(doc), { service: 'x' })
    const answer = await fetch(`${relay.httpUrl}/admin/docs/old`, {
      method: 'DELETE',
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        traceparent: `00-${TRACE_ID}-${OPERATOR_SPAN}-01`,
      },
    })
    expect(answer.status).toBe(204)
    const http = await spanWhere(
      (span) => span.name === 'weft.http' && parentOf(span) === OPERATOR_SPAN,
    )
    const { entries } = await relay.relay.feed.read()
    const deleted = entries.filter((entry) => entry.kind === 'deleted')
    expect(deleted.map((entry) => parts(entry.traceparent))).toEqual([[TRACE_ID, idOf(http)]])
  })
})
