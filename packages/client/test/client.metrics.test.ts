import { randomBytes } from 'node:crypto'
import {
  trackConflicts,
  type ConnectedEvent,
  type MetricSample,
  type WebSocketConstructor,
} from '@weft/client'
import { defineSchema, field, openModel } from '@weft/doc'
import { jwtAuth } from '@weft/server'
import {
  nextEvent,
  scopedToken,
  startTestRelay,
  tabLocks,
  TEST_SECRET,
  testClient,
  until,
  untilSameState,
  type TestRelay,
} from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type * as Y from 'yjs'

const board = defineSchema({
  version: 1,
  collections: {
    tasks: { title: field.string(), status: field.enum(['todo', 'doing', 'done']) },
  },
})

let relay: TestRelay | undefined

afterEach(async () => {
  await relay?.close()
  relay = undefined
})

/** `ws` sockets that count the bytes of every frame written and read, as the client's wire sees them. */
const countingSockets = () => {
  const counted = { sent: 0, received: 0 }
  class CountingWebSocket {
    constructor(url: string, protocols?: string | string[]) {
      const socket = new WebSocket(url, protocols)
      const send = socket.send.bind(socket)
      socket.send = ((data: Uint8Array) => {
        send(data)
        counted.sent += data.byteLength
      }) as typeof socket.send
      socket.on('message', (data: ArrayBuffer) => {
        counted.received += data.byteLength
      })
      return socket
    }
  }
  return { counted, WebSocket: CountingWebSocket as unknown as WebSocketConstructor }
}

/** Every sample the client hands its hook, and a way to pick them by name. */
const recorder = () => {
  const samples: MetricSample[] = []
  const named = (name: MetricSample['name']): MetricSample[] =>
    samples.filter((sample) => sample.name === name)
  const total = (name: MetricSample['name']): number =>
    named(name).reduce((sum, sample) => sum + sample.value, 0)
  return { samples, named, total, onMetric: (sample: MetricSample) => void samples.push(sample) }
}

/** Makes an edit the token forbids; resolves once it was refused and the document rebuilt. */
const refuse = async (
  handle: {
    doc: Y.Doc
    whenSaved(): Promise<void>
  } & Parameters<typeof nextEvent>[0],
  key: string,
): Promise<void> => {
  const reset = nextEvent(handle, 'reset')
  handle.doc.getMap('forbidden').set(key, 1)
  await expect(handle.whenSaved()).rejects.toMatchObject({ code: 'FORBIDDEN' })
  await reset
}

const EDITS = 6
const REFUSALS = 3

describe('client metrics on a real relay', () => {
  it('count a scripted workload: saves, refusals, a relay restart, pending age and bytes', async () => {
    const auth = jwtAuth({ secret: TEST_SECRET })
    relay = await startTestRelay({ auth })
    const token = await scopedToken('ann', [{ pattern: '**', access: 'write', types: ['text'] }])
    const sockets = countingSockets()
    const metrics = recorder()
    const client = testClient(relay, {
      token,
      WebSocket: sockets.WebSocket,
      onMetric: metrics.onMetric,
    })
    const connected: ConnectedEvent[] = []
    client.on('connected', (event) => connected.push(event))
    const retries: Array<{ attempt: number }> = []
    client.on('retry', (event) => retries.push(event))
    const handle = client.open('notes')
    await handle.whenSynced()
    expect(connected).toEqual([{ reconnect: false, offlineMs: null, attempt: 0 }])

    // Edits saved one by one: one latency each, and the bytes grow with every edit.
    let updateBytes = 0
    handle.doc.on('update', (update: Uint8Array) => (updateBytes += update.length))
    const sentBefore = client.metrics().bytesSent
    let sent = sentBefore
    for (let i = 0; i < EDITS; i += 1) {
      handle.doc.getText('text').insert(0, `edit ${i} `)
      await handle.whenSaved()
      expect(client.metrics().bytesSent).toBeGreaterThan(sent)
      sent = client.metrics().bytesSent
    }
    expect(sent - sentBefore).toBeGreaterThanOrEqual(updateBytes)
    const latencies = metrics.named('weft.client.ack_latency').map((sample) => sample.value)
    expect(latencies).toHaveLength(EDITS)
    for (const latency of latencies) expect(latency).toBeGreaterThanOrEqual(0)
    expect(client.metrics()).toMatchObject({ saved: EDITS, ackLatencyMs: { count: EDITS } })

    for (let i = 0; i < REFUSALS; i += 1) await refuse(handle, `key ${i}`)
    expect(metrics.named('weft.client.refusals').map((sample) => sample.attributes)).toEqual(
      Array.from({ length: REFUSALS }, () => ({ code: 'FORBIDDEN' })),
    )
    expect(client.metrics()).toMatchObject({
      refusals: REFUSALS,
      refusalsByCode: { FORBIDDEN: REFUSALS },
    })

    // The relay goes away: retries, edits waiting with a growing age, then a reconnect.
    const { port, dataDir } = relay
    const downAtMs = performance.now()
    await relay.close({ keepData: true })
    relay = undefined
    await until(client, 'retry', () => retries.length >= 2)
    const firstEditAt = Date.now()
    const firstPending = nextEvent(handle, 'pending')
    handle.doc.getText('text').insert(0, 'offline ')
    await firstPending
    const [firstStoredAt, firstStoredAtMono] = [Date.now(), performance.now()]
    const retriesBefore = retries.length
    await until(client, 'retry', () => retries.length >= retriesBefore + 3)
    const [secondEditAt, secondEditAtMono] = [Date.now(), performance.now()]
    const secondPending = nextEvent(handle, 'pending')
    handle.doc.getText('text').insert(0, 'later ')
    await secondPending
    const ages = metrics.named('weft.client.pending_age').map((sample) => sample.value)
    expect(ages.at(-1)).toBeGreaterThanOrEqual(secondEditAt - firstStoredAt)
    expect(ages.at(-1)).toBeGreaterThan(ages.at(-2) as number)
    expect(metrics.named('weft.client.pending_edits').at(-1)?.value).toBe(2)
    expect(client.metrics()).toMatchObject({ pending: 2 })
    expect(client.metrics().oldestPendingAt).toBeGreaterThanOrEqual(firstEditAt)
    expect(client.metrics().oldestPendingAt).toBeLessThanOrEqual(firstStoredAt)

    const reconnected = nextEvent<[ConnectedEvent]>(client, 'connected')
    relay = await startTestRelay({ auth, port, dataDir })
    const [event] = await reconnected
    const sinceDownMs = performance.now() - downAtMs
    expect(event.reconnect).toBe(true)
    // Offline before the first edit waited, and until after the second.
    expect(event.offlineMs).toBeGreaterThanOrEqual(secondEditAtMono - firstStoredAtMono)
    expect(event.offlineMs).toBeLessThanOrEqual(sinceDownMs)
    expect(event.attempt).toBe(retries.at(-1)?.attempt)
    await handle.whenSaved()
    const lastAge = () => metrics.named('weft.client.pending_age').at(-1)?.value
    await until(
      handle,
      'pending',
      () => lastAge() === 0,
      () => `pending age ${lastAge()}`,
    )
    expect(metrics.named('weft.client.offline_duration').map((sample) => sample.value)).toEqual([
      event.offlineMs,
    ])

    const snapshot = client.metrics()
    expect(snapshot).toMatchObject({
      connects: 2,
      reconnects: 1,
      retries: retries.length,
      saved: EDITS + 1,
      pending: 0,
      oldestPendingAt: null,
      hookErrors: 0,
    })
    expect(metrics.named('weft.client.reconnects')).toHaveLength(1)
    expect(metrics.total('weft.client.retries')).toBe(retries.length)
    // Every byte on the socket, both ways, and nothing else.
    expect(snapshot.bytesSent).toBe(sockets.counted.sent)
    expect(snapshot.bytesReceived).toBe(sockets.counted.received)
    expect(metrics.total('weft.client.bytes_sent')).toBe(snapshot.bytesSent)
    expect(metrics.total('weft.client.bytes_received')).toBe(snapshot.bytesReceived)
  })

  it('count compressed and chunked frames as written to and read from the socket', async () => {
    relay = await startTestRelay()
    const [up, down] = [countingSockets(), countingSockets()]
    const writer = testClient(relay, { WebSocket: up.WebSocket, compressFromBytes: 1024 })
    const reader = testClient(relay, { WebSocket: down.WebSocket })
    const [mine, theirs] = [writer.open('big'), reader.open('big')]
    await Promise.all([mine.whenSynced(), theirs.whenSynced()])
    const before = [writer.metrics().bytesSent, reader.metrics().bytesReceived] as const

    // 600,000 characters that deflate to little, sent in compressed chunks.
    mine.doc.getText('text').insert(0, 'weft '.repeat(120_000))
    await mine.whenSaved()
    await untilSameState([mine.doc, theirs.doc])
    const compressedSent = writer.metrics().bytesSent - before[0]
    expect(compressedSent).toBeGreaterThan(0)
    expect(compressedSent).toBeLessThan(60_000)

    // 400,000 random bytes that do not: chunks as large as the data.
    mine.doc.getMap('files').set('noise', new Uint8Array(randomBytes(400_000)))
    await mine.whenSaved()
    await untilSameState([mine.doc, theirs.doc])
    expect(writer.metrics().bytesSent - before[0] - compressedSent).toBeGreaterThanOrEqual(400_000)
    expect(reader.metrics().bytesReceived - before[1]).toBeGreaterThanOrEqual(400_000)
    expect(writer.metrics().bytesSent).toBe(up.counted.sent)
    expect(writer.metrics().bytesReceived).toBe(up.counted.received)
    expect(reader.metrics().bytesSent).toBe(down.counted.sent)
    expect(reader.metrics().bytesReceived).toBe(down.counted.received)
  })

  it('count the conflicts other writers open and resolve, following the document across a reset', async () => {
    relay = await startTestRelay({ auth: jwtAuth({ secret: TEST_SECRET }) })
    const token = await scopedToken('ann', [{ pattern: '**', access: 'write', types: ['tasks'] }])
    const metrics = recorder()
    const ann = testClient(relay, { token, onMetric: metrics.onMetric })
    const ben = testClient(relay, { user: 'ben' })
    const [annHandle, benHandle] = [ann.open('boards/1'), ben.open('boards/1')]
    await Promise.all([annHandle.whenSynced(), benHandle.whenSynced()])
    const stop = trackConflicts(annHandle, board)
    // A refused edit replaces ann's document: counting follows it.
    await refuse(annHandle, 'x')
    const annTasks = openModel(annHandle.doc, board, { author: 'ann' }).collection('tasks')
    const benModel = openModel(benHandle.doc, board, { author: 'ben' })
    const task = annTasks.create({ title: 'Ship', status: 'todo' })
    await annHandle.whenSaved()
    await untilSameState([annHandle.doc, benHandle.doc])

    /** Ann and Ben write `field` of the task while Ben is offline; Ben's write arrives later. */
    const concurrently = async (fields: { ann: object; ben: object }): Promise<void> => {
      ben.disconnect()
      benModel.collection('tasks').update(task.id, fields.ben)
      annTasks.update(task.id, fields.ann)
      await annHandle.whenSaved()
      ben.connect()
      await benHandle.whenSaved()
      await untilSameState([annHandle.doc, benHandle.doc])
    }
    await concurrently({ ann: { status: 'doing' }, ben: { status: 'done' } })
    const conflicts = () => metrics.named('weft.client.conflicts').map((s) => s.attributes)
    expect(conflicts()).toEqual([{ collection: 'tasks', change: 'opened' }])

    // Ben resolves it: counted. Ann resolving one herself is not (her own edit).
    benModel.resolve({ collection: 'tasks', id: task.id, field: 'status' }, 'done')
    await benHandle.whenSaved()
    await untilSameState([annHandle.doc, benHandle.doc])
    expect(conflicts()).toEqual([
      { collection: 'tasks', change: 'opened' },
      { collection: 'tasks', change: 'resolved' },
    ])
    await concurrently({ ann: { title: 'Ship it' }, ben: { title: 'Ship now' } })
    const annModel = openModel(annHandle.doc, board, { author: 'ann' })
    annModel.resolve({ collection: 'tasks', id: task.id, field: 'title' }, 'Ship')
    await annHandle.whenSaved()
    expect(ann.metrics()).toMatchObject({ conflictsOpened: 2, conflictsResolved: 1 })

    // Stopped: a conflict Ben opens is no longer counted.
    stop()
    await concurrently({ ann: { status: 'todo' }, ben: { status: 'doing' } })
    expect(annModel.conflicts()).toHaveLength(1)
    expect(ann.metrics()).toMatchObject({ conflictsOpened: 2, conflictsResolved: 1 })
    expect(metrics.named('weft.client.refusals')).toHaveLength(1)
  })

  it('in a tab group, count each tab once: its own saves, and the bytes where the socket is', async () => {
    relay = await startTestRelay()
    const tabs = { locks: tabLocks(), BroadcastChannel, group: `metrics-${Math.random()}` }
    const [first, second] = [recorder(), recorder()]
    const a = testClient(relay, { tabs, onMetric: first.onMetric })
    const b = testClient(relay, { tabs, onMetric: second.onMetric })
    const [ha, hb] = [a.open('shared'), b.open('shared')]
    await Promise.all([ha.whenSynced(), hb.whenSynced()])
    ha.doc.getText('t').insert(0, 'a')
    hb.doc.getText('t').insert(0, 'b')
    await Promise.all([ha.whenSaved(), hb.whenSaved()])
    for (const [client, metrics] of [
      [a, first],
      [b, second],
    ] as const) {
      expect(client.metrics()).toMatchObject({ connects: 1, saved: 1, pending: 0 })
      expect(metrics.named('weft.client.ack_latency')).toHaveLength(1)
    }
    // One socket: its bytes are counted by the tab that holds it, and by no other.
    expect(relay.relay.connectionCount).toBe(1)
    const sent = [a.metrics().bytesSent, b.metrics().bytesSent]
    expect(sent.filter((bytes) => bytes > 0)).toHaveLength(1)
    expect(first.total('weft.client.bytes_sent')).toBe(a.metrics().bytesSent)
    expect(second.total('weft.client.bytes_sent')).toBe(b.metrics().bytesSent)
  })

  it('keep syncing when the hook throws', async () => {
    relay = await startTestRelay()
    const client = testClient(relay, {
      onMetric: () => {
        throw new Error('telemetry is down')
      },
    })
    const handle = client.open('doc')
    await handle.whenSynced()
    handle.doc.getText('text').insert(0, 'still saved')
    await handle.whenSaved()
    const snapshot = client.metrics()
    expect(snapshot.saved).toBe(1)
    expect(snapshot.hookErrors).toBeGreaterThan(2)
    expect(snapshot.bytesSent).toBeGreaterThan(0)
  })
})
