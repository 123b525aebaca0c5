import { once } from 'node:events'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { nowMs } from '../src/clock.js'
import { LatencyLink } from '../src/servers/latency-link.js'

const RTT_MS = 60

let echo: Server
let link: LatencyLink

beforeEach(async () => {
  echo = createServer((socket) => socket.pipe(socket))
  echo.listen(0, '127.0.0.1')
  await once(echo, 'listening')
  link = await LatencyLink.start((echo.address() as AddressInfo).port, RTT_MS)
})

afterEach(async () => {
  await link.close()
  echo.close()
})

/** Connects to the link; resolves once the local connection is open. */
const dial = async (): Promise<Socket> => {
  const port = Number(new URL(link.url).port)
  const socket = connect({ host: '127.0.0.1', port })
  await once(socket, 'connect')
  return socket
}

/** Sends `text` and resolves with the ms until `expected` has come back whole. */
const roundTrip = (socket: Socket, text: string, expected = text): Promise<number> =>
  new Promise((resolve) => {
    const startMs = nowMs()
    let received = ''
    const read = (chunk: Buffer): void => {
      received += chunk.toString()
      if (received.length < expected.length) return
      socket.off('data', read)
      expect(received).toBe(expected)
      resolve(nowMs() - startMs)
    }
    socket.on('data', read)
    socket.write(text)
  })

describe('LatencyLink', () => {
  it('adds the handshake to the first round trip and the round trip to each one after', async () => {
    // Counted from before dialling: the link starts the handshake's round trip when it accepts,
    // which a loaded machine may report to this side some ms later.
    const dialledMs = nowMs()
    const socket = await dial()
    // Handshake (one round trip) before the first bytes, then their own round trip.
    await roundTrip(socket, 'hello')
    expect(nowMs() - dialledMs).toBeGreaterThanOrEqual(2 * RTT_MS - 1)
    const next = await roundTrip(socket, 'again')
    expect(next).toBeGreaterThanOrEqual(RTT_MS - 1)
    expect(next).toBeLessThan(2 * RTT_MS)
    socket.destroy()
  })

  it('keeps the order of the bytes and passes a clean end through', async () => {
    const socket = await dial()
    const words = Array.from({ length: 50 }, (_, index) => `${index};`)
    const back = roundTrip(socket, words[0]!, words.join(''))
    for (const word of words.slice(1)) socket.write(word)
    await back
    const ended = once(socket, 'end')
    socket.end()
    await ended
  })
})
