import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient, type WeftClient } from '@weft/client'
import { silentLogger } from '@weft/server'
import { until } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { parseCommand, type RelayConfig } from '../src/config.js'
import { startRelayServer, type RunningRelay } from '../src/relay-server.js'

const TOKEN = 'an-admin-token-of-at-least-32-characters'
let running: RunningRelay | undefined
let dataDir = ''
const clients: WeftClient[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close()
  await running?.close()
  running = undefined
  rmSync(dataDir, { recursive: true, force: true })
})

const start = async (extra: string[]): Promise<RunningRelay> => {
  dataDir = mkdtempSync(join(tmpdir(), 'weft-admin-'))
  const command = parseCommand(['--port', '0', '--data', dataDir, '--auth', 'open', ...extra], {})
  if (command.kind !== 'run') throw new Error(`bad test config: ${JSON.stringify(command)}`)
  running = await startRelayServer(command.config as RelayConfig, silentLogger)
  return running
}

const call = (
  path: string,
  init: RequestInit & { token?: string | null } = {},
): Promise<Response> => {
  const { token = TOKEN, ...rest } = init
  return fetch(`${running?.url}${path}`, {
    ...rest,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  })
}

describe('the /admin routes', () => {
  it('do not exist without --admin-token, and refuse a missing or wrong token', async () => {
    await start([])
    expect((await call('/admin/docs')).status).toBe(404)
    await running?.close()
    await start(['--admin-token', TOKEN])
    expect((await call('/admin/docs', { token: null })).status).toBe(401)
    const wrong = await call('/admin/docs', { token: `${TOKEN}x` })
    expect(wrong.status).toBe(401)
    expect(await wrong.json()).toMatchObject({ code: 'UNAUTHORIZED' })
  })

  it('list, inspect, export, import, compact and delete against a relay with clients connected', async () => {
    const relay = await start(['--admin-token', TOKEN])
    const connect = (): WeftClient => {
      const client = createClient({
        url: relay.url.replace('http', 'ws'),
        WebSocket: WebSocket,
      })
      clients.push(client)
      return client
    }
    const writer = connect().open('team/notes')
    await writer.whenSynced()
    writer.doc.getText('t').insert(0, 'hello')
    await writer.whenSaved()
    const path = `/admin/docs/${encodeURIComponent('team/notes')}`

    const list = await call('/admin/docs')
    expect(list.status).toBe(200)
    expect(await list.json()).toMatchObject([
      { name: 'team/notes', loaded: true, peers: 1, logRecords: 1 },
    ])
    const details = (await (await call(path)).json()) as { stateVector: Record<string, number> }
    expect(details.stateVector).toEqual({ [String(writer.doc.clientID)]: 5 })

    const exported = await call(`${path}/export`)
    expect(exported.headers.get('content-type')).toBe('application/octet-stream')
    const bytes = new Uint8Array(await exported.arrayBuffer())
    const copy = new Y.Doc()
    Y.applyUpdate(copy, bytes)
    expect(copy.getText('t').toString()).toBe('hello')

    // Import as a forward change: the connected writer receives it.
    const before = Y.encodeStateVector(copy)
    copy.getText('t').insert(5, '!')
    const put = await call(path, {
      method: 'PUT',
      body: Buffer.from(Y.encodeStateAsUpdate(copy, before)),
    })
    expect(put.status).toBe(204)
    await until(writer.doc, 'update', () => writer.doc.getText('t').toString() === 'hello!')
    expect((await call('/admin/docs/copy', { method: 'PUT', body: bytes })).status).toBe(204)

    // History: who changed it and when; the document at a time; a restore clients receive.
    const history = (await (await call(`${path}/history`)).json()) as {
      entries: Array<{ author: string; receivedAtMs: number }>
    }
    expect(history.entries.map((entry) => entry.author)).toEqual(['anonymous', 'admin:admin-api'])
    const firstAt = history.entries[0]?.receivedAtMs as number
    const old = new Y.Doc()
    Y.applyUpdate(
      old,
      new Uint8Array(await (await call(`${path}/export?at=${firstAt}`)).arrayBuffer()),
    )
    expect(old.getText('t').toString()).toBe('hello')
    const restored = await call(`${path}/restore?at=${firstAt}`, { method: 'POST' })
    expect(restored.status).toBe(200)
    await until(writer.doc, 'update', () => writer.doc.getText('t').toString() === 'hello')
    expect((await call(`${path}/restore`, { method: 'POST' })).status).toBe(400)

    const compact = await call(`${path}/compact`, { method: 'POST' })
    expect(await compact.json()).toMatchObject({ folded: 3 })

    const bad = await call(path, { method: 'PUT', body: new Uint8Array([9, 9, 9]) })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ code: 'BAD_UPDATE' })
    expect((await call('/admin/docs/%ZZ')).status).toBe(400)
    expect((await call('/admin/docs', { method: 'POST' })).status).toBe(400)

    expect((await call(path, { method: 'DELETE' })).status).toBe(204)
    await until(writer, 'status', () => writer.status.state === 'error')
    expect(writer.status).toMatchObject({ code: 'DOC_DELETED' })
    expect(
      ((await (await call('/admin/docs')).json()) as Array<{ name: string }>).map(
        (doc) => doc.name,
      ),
    ).toEqual(['copy'])
  })
})
