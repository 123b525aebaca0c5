import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { SyncStatus } from '@weft/client'
import { ERROR_CODES } from '@weft/protocol'
import {
  nextEvent,
  startScriptedRelay,
  startTestRelay,
  testClient,
  untilSameState,
  type TestRelay,
} from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'

const relays: TestRelay[] = []

afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.close()
})

describe('client reconnection', () => {
  it('keeps edits made while the relay is down and delivers them when it is back', async () => {
    const first = await startTestRelay()
    relays.push(first)
    const client = testClient(first)
    const handle = client.open('offline')
    await handle.whenSynced()
    handle.doc.getText('t').insert(0, 'before. ')
    await handle.whenSaved()

    const states: SyncStatus[] = []
    client.on('status', (status) => states.push(status))
    await first.close({ keepData: true })
    relays.pop()
    await nextEvent(client, 'status', (status: SyncStatus) => status.state === 'connecting')
    handle.doc.getText('t').insert(8, 'while offline. ')
    handle.doc.getMap('m').set('offline', true)
    expect(handle.pending).toBe(2)
    expect(handle.status.state).not.toBe('synced')

    const second = await startTestRelay({ dataDir: first.dataDir, port: first.port })
    relays.push(second)
    await handle.whenSaved()
    expect(handle.pending).toBe(0)
    expect(client.status.state).toBe('synced')
    const connecting = states.filter((status) => status.state === 'connecting')
    expect(connecting.length).toBeGreaterThan(0)
    expect(states.map((status) => status.state)).toContain('authenticating')

    const reader = testClient(second).open('offline')
    await reader.whenSynced()
    await untilSameState([handle.doc, reader.doc])
    expect(reader.doc.getText('t').toString()).toBe('before. while offline. ')
    expect(reader.doc.getMap('m').get('offline')).toBe(true)
  })

  it('retries with growing attempt counts while nothing listens', async () => {
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const { port } = probe.address() as AddressInfo
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    const client = testClient({ url: `ws://127.0.0.1:${port}` })
    const attempts: number[] = []
    await new Promise<void>((resolve) => {
      client.on('status', (status) => {
        if (status.state === 'connecting') attempts.push(status.attempt)
        if (attempts.length >= 4) resolve()
      })
    })
    // The first connect (attempt 0) happened before the listener; each retry counts up.
    expect(attempts.slice(0, 4)).toEqual([1, 2, 3, 4])
  })

  it('drops a half-open connection whose relay stops answering pings, and reconnects', async () => {
    // Welcome the client, then fall silent like a peer behind a dead network.
    const relay = await startScriptedRelay((message, client) => {
      if (message.type === 'hello') client.welcome()
    })
    try {
      const client = testClient(relay, { heartbeatIntervalMs: 30, heartbeatTimeoutMs: 30 })
      const [status] = await nextEvent(
        client,
        'status',
        (s: SyncStatus) => s.state === 'connecting' && s.attempt > 0,
      )
      expect(status).toMatchObject({ reason: expect.stringContaining('no answer to a ping') })
      await nextEvent(client, 'status', (s: SyncStatus) => s.state === 'synced')
      expect(relay.connections()).toBe(2)
    } finally {
      await relay.close()
    }
  })

  it('stops, with an error status, when the relay says retrying cannot help', async () => {
    const relay = await startScriptedRelay((message, client) => {
      if (message.type !== 'hello') return
      client.send({ type: 'error', doc: '', code: 'VERSION_UNSUPPORTED', reason: 'too old' })
      client.socket.close(ERROR_CODES.VERSION_UNSUPPORTED.closeCode, 'too old')
    })
    try {
      const client = testClient(relay)
      const handle = client.open('doc')
      const [status] = await nextEvent(client, 'status', (s: SyncStatus) => s.state === 'error')
      expect(status).toMatchObject({
        state: 'error',
        code: 'VERSION_UNSUPPORTED',
        reason: 'too old',
      })
      expect(handle.status).toMatchObject({ state: 'error', code: 'VERSION_UNSUPPORTED' })
      // Well past several backoff periods: no second connection.
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(relay.connections()).toBe(1)
    } finally {
      await relay.close()
    }
  })
})
