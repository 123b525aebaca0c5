import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { isWeftError, WeftServiceClient, type RecordChange } from '@weft/service-client'
import { afterEach, describe, expect, it } from 'vitest'
import { startApiRelay } from './fixtures/relays.js'
import { writeToken } from '@weft/testkit'

/** The code and message of what `run` throws or rejects with. */
const failure = async (run: () => unknown): Promise<string> => {
  try {
    await run()
  } catch (error) {
    if (isWeftError(error)) return error.message
    throw error
  }
  return 'no error'
}

/** A client whose fetch records each URL and answers `{}` (nothing should reach it). */
const recording = (url = 'http://relay.test') => {
  const urls: string[] = []
  const fakeFetch = async (input: string | URL | Request): Promise<Response> => {
    urls.push(String(input))
    return new Response('{"saved":true,"stateVector":"AA==","created":[]}')
  }
  return { client: new WeftServiceClient({ url, fetch: fakeFetch as typeof fetch }), urls }
}

let server: Server | null = null
afterEach(async () => {
  server?.closeAllConnections()
  await new Promise((resolve) => (server === null ? resolve(null) : server.close(resolve)))
  server = null
})

describe('WeftServiceClient options', () => {
  it('are validated at construction, naming the bad option', async () => {
    const build = (options: unknown) => () => new WeftServiceClient(options as never)
    expect(await failure(build(undefined))).toMatch(/^INVALID_ARGUMENT: WeftServiceClient needs/)
    expect(await failure(build({ url: 'ws://relay' }))).toMatch(/options\.url must be an http/)
    expect(await failure(build({ url: 'relay:8787' }))).toMatch(/options\.url/)
    expect(await failure(build({ url: 'http://relay/?x=1' }))).toMatch(/options\.url must not/)
    expect(await failure(build({ url: 'http://relay', token: '' }))).toMatch(/options\.token/)
    expect(await failure(build({ url: 'http://relay', token: 42 }))).toMatch(/options\.token/)
    expect(await failure(build({ url: 'http://relay', fetch: 'no' }))).toMatch(/options\.fetch/)
    expect(await failure(build({ url: 'http://relay', timeoutMs: 0 }))).toMatch(
      /options\.timeoutMs/,
    )
    expect(await failure(build({ url: 'http://relay', timeoutMs: 1.5 }))).toMatch(
      /options\.timeoutMs/,
    )
  })

  it('keep a path prefix and percent-encode document names', async () => {
    const { client, urls } = recording('https://gateway.example/weft/')
    await client.postUpdate('boards/ä b?c#d', new Uint8Array([0, 0]))
    await client.getUpdate('a', new Uint8Array([1, 255, 254]))
    expect(urls).toEqual([
      'https://gateway.example/weft/v1/docs/boards%2F%C3%A4%20b%3Fc%23d/update',
      'https://gateway.example/weft/v1/docs/a/update?since=Af_-',
    ])
  })
})

describe('WeftServiceClient arguments', () => {
  it('are checked before anything is sent', async () => {
    const { client, urls } = recording()
    const bytes = new Uint8Array([1])
    expect(await failure(() => client.getDocument(''))).toMatch(/^BAD_DOC_NAME/)
    expect(await failure(() => client.getDocument('a\u0000b'))).toMatch(/^BAD_DOC_NAME/)
    expect(await failure(() => client.getDocument(7 as never))).toMatch(/^BAD_DOC_NAME/)
    expect(await failure(() => client.getDocument('a', { raw: 'yes' as never }))).toMatch(
      /options\.raw/,
    )
    expect(await failure(() => client.getUpdate('a', new Uint8Array()))).toMatch(/since must be/)
    expect(await failure(() => client.postUpdate('a', new Uint8Array()))).toMatch(/update must/)
    expect(await failure(() => client.postUpdate('a', 'text' as never))).toMatch(/update must/)
    expect(
      await failure(() => client.postUpdate('a', bytes, { correlationId: 'has space' })),
    ).toMatch(/correlationId/)
    expect(
      await failure(() => client.postUpdate('a', bytes, { correlationId: 'x'.repeat(257) })),
    ).toMatch(/correlationId/)
    expect(await failure(() => client.readFeed({ after: '-1' }))).toMatch(/readFeed options\.after/)
    expect(await failure(() => client.readFeed({ after: 3 as never }))).toMatch(/after/)
    expect(await failure(() => client.readFeed({ limit: 0 }))).toMatch(/limit must be an integer/)
    expect(await failure(() => client.readFeed({ limit: 1001 }))).toMatch(/limit/)
    expect(await failure(() => client.readFeed({ waitMs: 60_001 }))).toMatch(/waitMs/)
    expect(await failure(() => client.readFeed({ docs: 'boards/*' as never }))).toMatch(/docs/)
    expect(await failure(() => client.readFeed({ docs: [''] }))).toMatch(/docs/)
    expect(await failure(() => client.readFeed({ signal: {} as never }))).toMatch(/signal/)
    expect(await failure(() => client.follow({} as never))).toMatch(/onEvents must be/)
    const onEvents = (): void => {}
    expect(await failure(() => client.follow({ onEvents, after: 'x' }))).toMatch(/after/)
    expect(await failure(() => client.follow({ onEvents, backoff: { maxMs: -1 } }))).toMatch(
      /backoff\.maxMs/,
    )
    expect(await failure(() => client.follow({ onEvents, sleep: 1 as never }))).toMatch(/sleep/)
    expect(urls).toEqual([])
  })

  it('record changes are checked, naming the change and key', async () => {
    const { client, urls } = recording()
    const change = (changes: unknown) => () => client.changeRecords('b', changes as RecordChange[])
    expect(await failure(change([]))).toMatch(/changes must be an array of 1 to 1000/)
    const many = Array.from({ length: 1001 }, () => ({ op: 'delete', collection: 'c', id: 'i' }))
    expect(await failure(change(many))).toMatch(/changes must be/)
    expect(await failure(change([null]))).toMatch(/changes\[0\] must be an object/)
    expect(await failure(change([{ op: 'explode' }]))).toMatch(/changes\[0\]\.op/)
    const del = { op: 'delete', collection: 'tasks', id: 't' }
    expect(await failure(change([del, { ...del, fields: {} }]))).toMatch(
      /changes\[1\]\.fields is not a key of a "delete" change/,
    )
    expect(await failure(change([{ op: 'update', collection: 'tasks', fields: {} }]))).toMatch(
      /changes\[0\]\.id is required/,
    )
    expect(await failure(change([{ ...del, id: 'x'.repeat(257) }]))).toMatch(/changes\[0\]\.id/)
    expect(
      await failure(change([{ op: 'create', collection: 'tasks', fields: ['title'] }])),
    ).toMatch(/changes\[0\]\.fields must be an object/)
    expect(
      await failure(change([{ op: 'resolve', collection: 'tasks', id: 't', field: 'f' }])),
    ).toMatch(/changes\[0\]\.value is required/)
    expect(urls).toEqual([])
    // A create may leave out its id, and a resolve may settle on null.
    await client.changeRecords('b', [
      { op: 'create', collection: 'tasks', fields: { title: 'x' } },
      { op: 'resolve', collection: 'tasks', id: 't', field: 'f', value: null },
    ])
    expect(urls).toHaveLength(1)
  })
})

describe('WeftServiceClient without an answer', () => {
  it('reports refused connections and timeouts as UNAVAILABLE, and aborts as CLOSED', async () => {
    server = createServer(() => {}) // takes requests, never answers
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const silent = new WeftServiceClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 200 })
    const timedOut = await silent.getDocument('a').catch((error: unknown) => error)
    expect(isWeftError(timedOut, 'UNAVAILABLE')).toBe(true)
    expect((timedOut as Error).message).toMatch(/GET \/v1\/docs\/a: no answer within 200 ms/)
    const stop = new AbortController()
    const pending = silent.readFeed({ waitMs: 5_000, signal: stop.signal })
    stop.abort()
    expect(isWeftError(await pending.catch((error: unknown) => error), 'CLOSED')).toBe(true)

    server.closeAllConnections()
    await new Promise((resolve) => server?.close(resolve))
    server = null
    const refused = await silent.getDocument('a').catch((error: unknown) => error)
    expect(isWeftError(refused, 'UNAVAILABLE')).toBe(true)
    expect((refused as Error).message).toMatch(/ECONNREFUSED/)
    expect((refused as Error).cause).toBeInstanceOf(Error)
  })

  it('gives a long poll its wait on top of the timeout', async () => {
    const relay = await startApiRelay()
    try {
      const client = new WeftServiceClient({
        url: relay.httpUrl,
        token: await writeToken('svc'),
        timeoutMs: 1_000,
      })
      // Nothing is written: the relay answers an empty page after 1.5 s, past the 1 s timeout.
      const page = await client.readFeed({ waitMs: 1_500 })
      expect(page).toEqual({ events: [], cursor: '0', head: '0' })
    } finally {
      await relay.close()
    }
  })
})
