import { defineSchema, field } from '@weft/doc'
import { jwtAuth } from '@weft/server'
import {
  startTestRelay,
  testClient,
  untilSameState,
  type TestRelay,
  scopedToken,
  TEST_SECRET,
  writeToken,
} from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

const board = defineSchema({
  version: 1,
  collections: {
    tasks: {
      title: field.string(),
      status: field.enum(['todo', 'doing', 'done']),
      estimate: field.number().nullable(),
    },
    people: { name: field.string() },
  },
})

let relay: TestRelay | null = null
afterEach(async () => {
  await relay?.close()
  relay = null
})

const start = async (): Promise<TestRelay> =>
  (relay = await startTestRelay({
    httpApi: true,
    historyMs: 60_000,
    auth: jwtAuth({ secret: TEST_SECRET }),
    schemas: [{ pattern: 'boards/*', schema: board }],
  }))

/** Calls the API with a token (null: none), a JSON or byte body. */
const call = async (
  path: string,
  options: { method?: string; token?: string | null; json?: unknown; bytes?: Uint8Array } = {},
): Promise<Response> => {
  const { method = 'GET', token = null, json, bytes } = options
  const headers: Record<string, string> = {}
  if (token !== null) headers.authorization = `Bearer ${token}`
  if (json !== undefined) headers['content-type'] = 'application/json'
  const body = json !== undefined ? JSON.stringify(json) : (bytes as BodyInit | undefined)
  return fetch(`${relay?.httpUrl}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  })
}

const errorOf = async (response: Response): Promise<{ status: number; code: string }> => ({
  status: response.status,
  code: ((await response.json()) as { code: string }).code,
})

const docUpdate = (edit: (doc: Y.Doc) => void): Uint8Array => {
  const doc = new Y.Doc()
  edit(doc)
  return Y.encodeStateAsUpdate(doc)
}

describe('the /v1 HTTP API', () => {
  it('changes records as CRDT edits that clients receive, and reads them back as JSON', async () => {
    const started = await start()
    const token = await writeToken('svc-estimator')
    const client = testClient(started, { user: 'ana' }).open('boards/1')
    await client.whenSynced()
    const response = await call('/v1/docs/boards%2F1/records', {
      method: 'POST',
      token,
      json: {
        changes: [
          {
            op: 'create',
            collection: 'tasks',
            id: 't1',
            fields: { title: 'Ship', status: 'todo' },
          },
          { op: 'update', collection: 'tasks', id: 't1', fields: { estimate: 5 } },
        ],
      },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('x-correlation-id')).toBeTruthy()
    expect(await response.json()).toMatchObject({ saved: true, created: ['t1'] })
    const json = (await (await call('/v1/docs/boards%2F1', { token })).json()) as {
      model: { collections: { tasks: Array<Record<string, unknown>> } }
    }
    expect(json.model.collections.tasks).toEqual([
      expect.objectContaining({ id: 't1', title: 'Ship', status: 'todo', estimate: 5 }),
    ])
    expect(json.model.collections.tasks[0]).toMatchObject({ createdBy: 'svc-estimator' })
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (!client.doc.getMap('tasks').has('t1')) return
        client.doc.off('update', check)
        resolve()
      }
      client.doc.on('update', check)
      check()
    })
  })

  it('reads a document as Yjs bytes, or what is newer than a state vector, and applies updates', async () => {
    const started = await start()
    const token = await writeToken('svc')
    const writer = testClient(started, { user: 'ana' }).open('notes')
    writer.doc.getText('body').insert(0, 'hello')
    await writer.whenSaved()
    const whole = new Uint8Array(
      await (await call('/v1/docs/notes/update', { token })).arrayBuffer(),
    )
    const replica = new Y.Doc()
    Y.applyUpdate(replica, whole)
    expect(replica.getText('body').toString()).toBe('hello')
    const since = Buffer.from(Y.encodeStateVector(replica)).toString('base64url')
    writer.doc.getText('body').insert(5, ' world')
    await writer.whenSaved()
    const newer = await call(`/v1/docs/notes/update?since=${since}`, { token })
    Y.applyUpdate(replica, new Uint8Array(await newer.arrayBuffer()))
    expect(replica.getText('body').toString()).toBe('hello world')

    const update = Y.encodeStateAsUpdate(
      (() => {
        const doc = new Y.Doc()
        Y.applyUpdate(doc, Y.encodeStateAsUpdate(replica))
        doc.getMap('meta').set('indexed', true)
        return doc
      })(),
      Y.encodeStateVector(replica),
    )
    const posted = await call('/v1/docs/notes/update', { method: 'POST', token, bytes: update })
    expect(posted.status).toBe(200)
    expect(await posted.json()).toMatchObject({ saved: true })
    await untilSameState([
      writer.doc,
      (() => {
        const expected = new Y.Doc()
        Y.applyUpdate(expected, Y.encodeStateAsUpdate(replica))
        Y.applyUpdate(expected, update)
        return expected
      })(),
    ])
    expect(writer.doc.getMap('meta').get('indexed')).toBe(true)
    const json = await (await call('/v1/docs/notes', { token })).json()
    expect(json).toMatchObject({
      name: 'notes',
      content: { body: 'hello world', meta: { indexed: true } },
    })
  })

  it('refuses every route without a valid token, and outside the token scope', async () => {
    await start()
    const routes: Array<[string, { method?: string; json?: unknown; bytes?: Uint8Array }]> = [
      ['/v1/docs/boards%2F1', {}],
      ['/v1/docs/boards%2F1/update', {}],
      [
        '/v1/docs/boards%2F1/update',
        { method: 'POST', bytes: docUpdate((d) => d.getMap('x').set('a', 1)) },
      ],
      [
        '/v1/docs/boards%2F1/records',
        { method: 'POST', json: { changes: [{ op: 'delete', collection: 'tasks', id: 'a' }] } },
      ],
      ['/v1/feed', {}],
      ['/v1/feed/stream', {}],
      ['/v1/feed/head', {}],
    ]
    const forged = await writeToken('mallory', 'another-secret-that-is-32-bytes-long!!')
    for (const [path, options] of routes) {
      expect(await errorOf(await call(path, options))).toEqual({
        status: 401,
        code: 'UNAUTHORIZED',
      })
      expect(await errorOf(await call(path, { ...options, token: forged }))).toEqual({
        status: 401,
        code: 'UNAUTHORIZED',
      })
    }
    const writer = await writeToken('ana')
    await call('/v1/docs/boards%2F1/records', {
      method: 'POST',
      token: writer,
      json: {
        changes: [
          { op: 'create', collection: 'tasks', id: 't1', fields: { title: 'a', status: 'todo' } },
        ],
      },
    })
    const elsewhere = await scopedToken('eve', [{ pattern: 'other/**', access: 'write' }])
    for (const [path, options] of routes.slice(0, 4)) {
      expect(await errorOf(await call(path, { ...options, token: elsewhere }))).toEqual({
        status: 403,
        code: 'FORBIDDEN',
      })
    }
    const reader = await scopedToken('rita', [{ pattern: 'boards/*', access: 'read' }])
    expect((await call('/v1/docs/boards%2F1', { token: reader })).status).toBe(200)
    expect((await call('/v1/docs/boards%2F1/update', { token: reader })).status).toBe(200)
    for (const [path, options] of routes.slice(2, 4)) {
      expect(await errorOf(await call(path, { ...options, token: reader }))).toEqual({
        status: 403,
        code: 'FORBIDDEN',
      })
    }
    const peopleOnly = await scopedToken('pat', [
      { pattern: 'boards/*', access: 'write', types: ['people'] },
    ])
    const taskEdit = {
      changes: [{ op: 'update', collection: 'tasks', id: 't1', fields: { estimate: 1 } }],
    }
    expect(
      await errorOf(
        await call('/v1/docs/boards%2F1/records', {
          method: 'POST',
          token: peopleOnly,
          json: taskEdit,
        }),
      ),
    ).toEqual({ status: 403, code: 'FORBIDDEN' })
    const person = { changes: [{ op: 'create', collection: 'people', fields: { name: 'Pat' } }] }
    expect(
      (
        await call('/v1/docs/boards%2F1/records', {
          method: 'POST',
          token: peopleOnly,
          json: person,
        })
      ).status,
    ).toBe(200)
    // The feed shows a token only the documents it may read.
    await call('/v1/docs/other%2Fsecret/update', {
      method: 'POST',
      token: writer,
      bytes: docUpdate((d) => d.getText('t').insert(0, 'secret')),
    })
    const feed = (await (await call('/v1/feed', { token: reader })).json()) as {
      events: Array<{ doc: string }>
    }
    expect(feed.events.length).toBeGreaterThan(0)
    expect(feed.events.every((event) => event.doc === 'boards/1')).toBe(true)
  })

  it('answers bad input on every route with a code and a status, changing nothing', async () => {
    await start()
    const token = await writeToken('svc')
    const expectError = async (
      path: string,
      options: { method?: string; json?: unknown; bytes?: Uint8Array },
      status: number,
      code: string,
    ): Promise<void> => {
      expect(await errorOf(await call(path, { ...options, token })), path).toEqual({ status, code })
    }
    const create = (id: string, fields: unknown) => ({
      changes: [{ op: 'create', collection: 'tasks', id, fields }],
    })
    await call('/v1/docs/boards%2F1/records', {
      method: 'POST',
      token,
      json: create('t1', { title: 'a', status: 'todo' }),
    })
    await expectError('/v1/docs/%E0%A4%A', {}, 400, 'BAD_DOC_NAME')
    await expectError('/v1/docs/never-written', {}, 404, 'NOT_FOUND')
    await expectError('/v1/docs/never-written/update', {}, 404, 'NOT_FOUND')
    await expectError('/v1/docs/boards%2F1/nothing', {}, 404, 'NOT_FOUND')
    await expectError('/v1/docs/boards%2F1', { method: 'DELETE' }, 404, 'NOT_FOUND')
    await expectError('/v1/nowhere', {}, 404, 'NOT_FOUND')
    await expectError('/v1/docs/boards%2F1/update?since=!!!', {}, 400, 'INVALID_ARGUMENT')
    await expectError('/v1/docs/boards%2F1/update?since=_w8', {}, 400, 'BAD_MESSAGE')
    const post = (body: { json?: unknown; bytes?: Uint8Array }) => ({ method: 'POST', ...body })
    await expectError(
      '/v1/docs/notes/update',
      post({ bytes: new Uint8Array([1, 2, 3]) }),
      400,
      'BAD_UPDATE',
    )
    await expectError('/v1/docs/notes/update', post({ bytes: new Uint8Array() }), 400, 'BAD_UPDATE')
    await expectError(
      '/v1/docs/notes/update',
      post({ bytes: new Uint8Array(16 * 1024 * 1024 + 1) }),
      413,
      'MESSAGE_TOO_BIG',
    )
    const records = '/v1/docs/boards%2F1/records'
    await expectError(
      records,
      { method: 'POST', bytes: new TextEncoder().encode('{not json') },
      400,
      'INVALID_ARGUMENT',
    )
    await expectError(records, post({ json: {} }), 400, 'INVALID_ARGUMENT')
    await expectError(
      records,
      post({ json: { changes: [{ op: 'explode' }] } }),
      400,
      'INVALID_ARGUMENT',
    )
    await expectError(records, post({ json: { changes: [], extra: 1 } }), 400, 'INVALID_ARGUMENT')
    await expectError(
      records,
      post({ json: create('t2', { title: 'a', status: 'later' }) }),
      400,
      'INVALID_ARGUMENT',
    )
    await expectError(
      records,
      post({ json: { changes: [{ op: 'create', collection: 'nope', fields: {} }] } }),
      400,
      'INVALID_ARGUMENT',
    )
    await expectError(
      records,
      post({ json: create('t1', { title: 'b', status: 'todo' }) }),
      409,
      'ALREADY_EXISTS',
    )
    await expectError(
      records,
      post({
        json: {
          changes: [{ op: 'update', collection: 'tasks', id: 'ghost', fields: { estimate: 1 } }],
        },
      }),
      404,
      'NOT_FOUND',
    )
    // A batch is all or nothing: the valid first change was not kept.
    await expectError(
      records,
      post({
        json: {
          changes: [
            { op: 'update', collection: 'tasks', id: 't1', fields: { title: 'kept?' } },
            { op: 'update', collection: 'tasks', id: 't1', fields: { status: 'bad' } },
          ],
        },
      }),
      400,
      'INVALID_ARGUMENT',
    )
    const json = (await (await call('/v1/docs/boards%2F1', { token })).json()) as {
      model: { collections: { tasks: Array<{ title: string }> } }
    }
    expect(json.model.collections.tasks.map((task) => task.title)).toEqual(['a'])
    await call('/v1/docs/plain/update', {
      method: 'POST',
      token,
      bytes: docUpdate((d) => d.getText('t').insert(0, 'x')),
    })
    await expectError(
      '/v1/docs/plain/records',
      post({ json: create('x', {}) }),
      400,
      'INVALID_ARGUMENT',
    )
    await expectError('/v1/feed?after=-1', {}, 400, 'INVALID_ARGUMENT')
    await expectError('/v1/feed?limit=0', {}, 400, 'INVALID_ARGUMENT')
    await expectError('/v1/feed?limit=5000', {}, 400, 'INVALID_ARGUMENT')
    await expectError('/v1/feed?wait=999999', {}, 400, 'INVALID_ARGUMENT')
    await expectError('/v1/feed', { method: 'POST' }, 404, 'NOT_FOUND')
    await expectError('/v1/feed/stream?after=x', {}, 400, 'INVALID_ARGUMENT')
    await expectError('/v1/feed?after=999999', {}, 400, 'INVALID_ARGUMENT')
    const badCorrelation = await fetch(`${relay?.httpUrl}/v1/feed`, {
      headers: { authorization: `Bearer ${token}`, 'x-correlation-id': 'has spaces in it' },
    })
    expect(await badCorrelation.json()).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'X-Correlation-Id must be 1 to 256 printable ASCII characters without spaces',
    })
  })
})
