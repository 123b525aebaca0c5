import { createHash, randomBytes, randomInt } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { nextEvent, until, withTimeout } from '../src/events.js'
import { startFaultProxy, type FaultDirection, type FaultProxy } from '../src/fault-proxy.js'

interface Frame {
  readonly data: Buffer
  readonly isBinary: boolean
}

interface Closed {
  readonly code: number
  readonly reason: string
}

/** A plain echo server standing in for the relay; it records what reaches it. */
interface EchoServer {
  readonly url: string
  readonly received: Frame[]
  readonly requests: Array<{ url: string; protocols: string | undefined }>
  /** The server side of each connection, in accept order. */
  readonly sockets: WebSocket[]
  readonly closes: Closed[]
  /** Emits `frame` and `close` after recording them. */
  readonly events: EventEmitter
  close(): Promise<void>
}

interface TestClient {
  readonly socket: WebSocket
  readonly frames: Frame[]
  readonly pongs: string[]
  readonly closed: Promise<Closed>
}

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const startEcho = async (): Promise<EchoServer> => {
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    // Picks `chosen` when offered, to show the client gets the target's choice.
    handleProtocols: (offered) =>
      offered.has('chosen') ? 'chosen' : (offered.values().next().value ?? false),
  })
  await nextEvent(wss, 'listening')
  const events = new EventEmitter()
  const echo: EchoServer = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    received: [],
    requests: [],
    sockets: [],
    closes: [],
    events,
    close: async () => {
      for (const socket of wss.clients) socket.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
  wss.on('connection', (socket, request) => {
    echo.sockets.push(socket)
    echo.requests.push({
      url: request.url ?? '',
      protocols: request.headers['sec-websocket-protocol'],
    })
    socket.on('message', (data, isBinary) => {
      echo.received.push({ data: data as Buffer, isBinary })
      socket.send(data, { binary: isBinary })
      events.emit('frame')
    })
    socket.on('close', (code, reason) => {
      echo.closes.push({ code, reason: reason.toString() })
      events.emit('close')
    })
  })
  cleanups.push(() => echo.close())
  return echo
}

const startProxy = async (target: string, seed?: number): Promise<FaultProxy> => {
  const proxy = await startFaultProxy({
    target,
    reorderHoldMs: 200,
    ...(seed === undefined ? {} : { seed }),
  })
  cleanups.push(() => proxy.close())
  return proxy
}

/** A client socket that records frames, pongs and its close; rejects if it cannot open. */
const connect = async (url: string, protocols: string[] = []): Promise<TestClient> => {
  const socket = new WebSocket(url, protocols)
  const frames: Frame[] = []
  const pongs: string[] = []
  socket.on('message', (data, isBinary) => frames.push({ data: data as Buffer, isBinary }))
  socket.on('pong', (data) => pongs.push(data.toString()))
  socket.on('error', () => {
    // `closed` reports the outcome.
  })
  const closed = new Promise<Closed>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  )
  cleanups.push(() => socket.terminate())
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
    }),
    5000,
    `connecting to ${url}`,
  )
  return { socket, frames, pongs, closed }
}

/** The error a connection attempt to `url` fails with. */
const connectError = async (url: string): Promise<Error> => {
  const socket = new WebSocket(url)
  const [error] = await nextEvent<[Error]>(socket, 'error', () => true, 5000)
  return error
}

const texts = (frames: readonly Frame[]): string[] => frames.map((frame) => frame.data.toString())

/** Kind and digest of each frame: exact, and cheap to compare and diff even for big frames. */
const digests = (frames: readonly Frame[]): string[] =>
  frames.map((frame) => {
    const digest = createHash('sha256').update(frame.data).digest('hex')
    return `${frame.isBinary ? 'binary' : 'text'} ${frame.data.length} ${digest}`
  })

const untilFrames = (client: TestClient, count: number): Promise<void> =>
  until(
    client.socket,
    'message',
    () => client.frames.length >= count,
    () => `${count} frames (got ${JSON.stringify(texts(client.frames))})`,
    5000,
  )

const sendAll = (client: TestClient, payloads: readonly string[]): void => {
  for (const payload of payloads) client.socket.send(payload)
}

describe('fault proxy: pass-through', () => {
  it('forwards frames byte for byte, binary and text, in order both ways under delay', async () => {
    const echo = await startEcho()
    const proxy = await startProxy(echo.url)
    console.log(`fault-proxy seed: ${proxy.seed}`)
    proxy.setDelay({ minMs: 5, maxMs: 40 })
    const client = await connect(proxy.url)
    const sent: Frame[] = [
      { data: Buffer.alloc(0), isBinary: true },
      { data: randomBytes(256 * 1024), isBinary: true },
    ]
    for (let index = 0; index < 30; index++)
      sent.push(
        index % 2 === 0
          ? { data: randomBytes(1 + randomInt(64)), isBinary: true }
          : { data: Buffer.from(`text ${index} ünï 🧵`), isBinary: false },
      )
    for (const frame of sent) client.socket.send(frame.data, { binary: frame.isBinary })
    await untilFrames(client, sent.length)
    expect(digests(echo.received)).toEqual(digests(sent))
    expect(digests(client.frames)).toEqual(digests(sent))
    expect(proxy.stats.forwarded).toEqual({ up: sent.length, down: sent.length })
    expect(proxy.stats.dropped).toEqual({ up: 0, down: 0 })
    proxy.setDelay({ minMs: 30, maxMs: 30 })
    const startedMs = performance.now()
    sendAll(client, ['timed'])
    await untilFrames(client, sent.length + 1)
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(59) // 30 ms each way
  })

  it('forwards path, query and offered subprotocols; accepts with the target’s choice', async () => {
    const echo = await startEcho()
    const proxy = await startProxy(echo.url)
    const client = await connect(`${proxy.url}/notes/team-42?token=abc`, ['weft.v1', 'chosen'])
    expect(client.socket.protocol).toBe('chosen')
    expect(echo.requests[0]?.url).toBe('/notes/team-42?token=abc')
    expect(echo.requests[0]?.protocols?.split(/, */)).toEqual(['weft.v1', 'chosen'])
    const plain = await connect(`${proxy.url}/other`)
    expect(plain.socket.protocol).toBe('')
    expect(echo.requests[1]).toEqual({ url: '/other', protocols: undefined })
    expect(proxy.stats.connections).toBe(2)
    expect(proxy.connectionCount).toBe(2)
  })

  it('answers 502 when the target is down', async () => {
    const echo = await startEcho()
    await echo.close()
    const proxy = await startProxy(echo.url)
    expect((await connectError(proxy.url)).message).toMatch(/502/)
    expect(proxy.connectionCount).toBe(0)
  })

  it('propagates close codes and reasons both ways', async () => {
    const echo = await startEcho()
    const proxy = await startProxy(echo.url)
    const fromTarget = await connect(proxy.url)
    echo.sockets[0]?.close(4403, 'forbidden')
    expect(await fromTarget.closed).toEqual({ code: 4403, reason: 'forbidden' })

    const fromClient = await connect(proxy.url)
    fromClient.socket.close(4001, 'bye')
    await until(echo.events, 'close', () => echo.closes.length === 2)
    expect(echo.closes[1]).toEqual({ code: 4001, reason: 'bye' })

    const noStatus = await connect(proxy.url)
    echo.sockets[2]?.close()
    expect((await noStatus.closed).code).toBe(1005)

    const reset = await connect(proxy.url)
    echo.sockets[3]?.terminate()
    expect((await reset.closed).code).toBe(1006)
    await until(proxy, 'stats', () => proxy.connectionCount === 0)
  })

  it('close() terminates connections with frames still queued, and stops listening', async () => {
    const echo = await startEcho()
    const proxy = await startProxy(echo.url)
    proxy.setDelay({ minMs: 60_000, maxMs: 60_000 }, 'down')
    const client = await connect(proxy.url)
    client.socket.send('held in the proxy')
    await until(echo.events, 'frame', () => echo.received.length === 1)
    await withTimeout(proxy.close(), 2000, 'proxy.close()')
    expect((await client.closed).code).toBe(1006)
    expect(client.frames).toEqual([])
    expect((await connectError(proxy.url)).message).toMatch(/ECONNREFUSED/)
  })
})

describe('fault proxy: faults', () => {
  it('duplicate with probability 1 sends every frame twice', async () => {
    const echo = await startEcho()
    const proxy = await startProxy(echo.url)
    proxy.setDuplicate(1)
    const client = await connect(proxy.url)
    sendAll(client, ['a', 'b'])
    await untilFrames(client, 8)
    expect(texts(echo.received)).toEqual(['a', 'a', 'b', 'b'])
    expect(texts(client.frames)).toEqual(['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b'])
    expect(proxy.stats.duplicated).toBe(6)
  })

  it('reorder with probability 1 swaps adjacent relay → client frames and loses none', async () => {
    const echo = await startEcho()
    const proxy = await startProxy(echo.url)
    proxy.setReorder(1)
    const client = await connect(proxy.url)
    sendAll(client, ['1', '2', '3', '4', '5'])
    await untilFrames(client, 5) // the fifth has no successor and goes after the hold
    expect(texts(echo.received)).toEqual(['1', '2', '3', '4', '5'])
    expect(texts(client.frames)).toEqual(['2', '1', '4', '3', '5'])
    expect(proxy.stats.reordered).toBe(2)
    expect(proxy.stats.forwarded).toEqual({ up: 5, down: 5 })
  })

  it('reorders client → relay only when asked', async () => {
    const echo = await startEcho()
    const proxy = await startProxy(echo.url)
    proxy.setReorder(1, 'up')
    const client = await connect(proxy.url)
    sendAll(client, ['1', '2', '3', '4'])
    await untilFrames(client, 4)
    expect(texts(echo.received)).toEqual(['2', '1', '4', '3'])
    expect(texts(client.frames)).toEqual(['2', '1', '4', '3'])
  })

  it('blackHole stalls frames and pings both ways without closing, then delivers them in order', async () => {
    const echo = await startEcho()
    const proxy = await startProxy(echo.url)
    const client = await connect(proxy.url)
    proxy.blackHole(true)
    client.socket.ping('p1')
    client.socket.send('stalled up')
    echo.sockets[0]?.send('stalled down')
    // Nothing may arrive while the path is dead; give it ample time to (wrongly) arrive.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(echo.received).toEqual([])
    expect(client.frames).toEqual([])
    expect(client.pongs).toEqual([])
    proxy.blackHole(false)
    await untilFrames(client, 2)
    await until(client.socket, 'pong', () => client.pongs.length === 1)
    expect(texts(echo.received)).toEqual(['stalled up'])
    expect(texts(client.frames)).toEqual(['stalled down', 'stalled up'])
    expect(client.pongs).toEqual(['p1'])
    expect(proxy.connectionCount).toBe(1)
    expect(proxy.stats.dropped).toEqual({ up: 0, down: 0 })
  })

  it('refuse rejects new connections with 503 while existing ones keep working', async () => {
    const echo = await startEcho()
    const proxy = await startProxy(echo.url)
    const existing = await connect(proxy.url)
    proxy.refuse(true)
    expect((await connectError(proxy.url)).message).toMatch(/503/)
    expect(proxy.stats.refused).toBe(1)
    sendAll(existing, ['still here'])
    await untilFrames(existing, 1)
    expect(texts(existing.frames)).toEqual(['still here'])
    proxy.refuse(false)
    const later = await connect(proxy.url)
    sendAll(later, ['back'])
    await untilFrames(later, 1)
    expect(proxy.stats.connections).toBe(2)
    expect(echo.requests).toHaveLength(2)
  })

  it('cutAll resets every pair: both sides see 1006', async () => {
    const echo = await startEcho()
    const proxy = await startProxy(echo.url)
    const clients = [await connect(proxy.url), await connect(proxy.url)]
    proxy.cutAll()
    expect(proxy.connectionCount).toBe(0)
    for (const client of clients) expect((await client.closed).code).toBe(1006)
    await until(echo.events, 'close', () => echo.closes.length === 2)
    expect(echo.closes.map((closed) => closed.code)).toEqual([1006, 1006])
    expect(proxy.stats.cuts).toBe(2)
  })

  it('cutAll with a code closes both sides with it', async () => {
    const echo = await startEcho()
    const proxy = await startProxy(echo.url)
    const client = await connect(proxy.url)
    proxy.cutAll({ code: 4000 })
    expect((await client.closed).code).toBe(4000)
    await until(echo.events, 'close', () => echo.closes.length === 1)
    expect(echo.closes[0]?.code).toBe(4000)
    expect(() => proxy.cutAll({ code: 1006 })).toThrow(RangeError)
  })

  it('cutRandomly(1) cuts the pair on the first frame instead of forwarding it', async () => {
    const echo = await startEcho()
    const proxy = await startProxy(echo.url)
    const client = await connect(proxy.url)
    proxy.cutRandomly(1)
    client.socket.send('never arrives')
    expect((await client.closed).code).toBe(1006)
    await until(echo.events, 'close', () => echo.closes.length === 1)
    expect(echo.received).toEqual([])
    expect(proxy.stats.cuts).toBe(1)
    expect(proxy.stats.dropped.up).toBe(1)
  })
})

describe('fault proxy: replay from the seed', () => {
  const payloads = Array.from({ length: 40 }, (_, index) => String(index))

  /** Sends the payloads through duplicate/reorder 0.5 on `direction`; returns what came out. */
  const run = async (seed: number, direction: FaultDirection): Promise<string[]> => {
    const echo = await startEcho()
    const proxy = await startProxy(echo.url, seed)
    proxy.setDuplicate(0.5, direction)
    proxy.setReorder(0.5, direction)
    const client = await connect(proxy.url)
    sendAll(client, payloads)
    // Both copies of a frame leave together, so once every payload is out, the counters are final.
    const observed = direction === 'up' ? echo.received : client.frames
    const done = (): boolean =>
      payloads.every((payload) => texts(observed).includes(payload)) &&
      observed.length === proxy.stats.forwarded[direction] + proxy.stats.duplicated
    if (direction === 'up') await until(echo.events, 'frame', done, () => 'all frames', 5000)
    else await until(client.socket, 'message', done, () => 'all frames', 5000)
    expect(proxy.stats.duplicated).toBeGreaterThan(0)
    expect(proxy.stats.reordered).toBeGreaterThan(0)
    return texts(observed)
  }

  it.each(['up', 'down'] as const)('same seed, same faults (%s)', async (direction) => {
    const seed = randomInt(2 ** 32)
    console.log(`fault-proxy seed: ${seed} (${direction})`)
    const first = await run(seed, direction)
    expect(first).not.toEqual(payloads)
    expect(await run(seed, direction)).toEqual(first)
    expect(await run((seed + 1) % 2 ** 32, direction)).not.toEqual(first)
  })
})
