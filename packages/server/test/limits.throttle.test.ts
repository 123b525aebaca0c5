import { RawSocket, startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'

let relay: TestRelay | undefined
const raws: RawSocket[] = []

afterEach(async () => {
  for (const raw of raws.splice(0)) raw.close()
  await relay?.close()
  relay = undefined
})

describe('message-rate limits', () => {
  it('throttles a socket over its message rate instead of dropping anything', async () => {
    relay = await startTestRelay({ maxMessagesPerSecond: 100 })
    const raw = await RawSocket.weft(relay.url)
    raws.push(raw)
    // 200 messages are the burst; the next 200 must wait about 2 s at 100 a second.
    const started = performance.now()
    const count = 400
    for (let nonce = 1; nonce <= count; nonce++) raw.sendMessage({ type: 'ping', nonce })
    await raw.nextMessage((message) => message.type === 'pong' && message.nonce === count, 10_000)
    const elapsed = performance.now() - started
    const pongs = raw.frames.length - 1 // all but welcome
    expect(pongs).toBe(count)
    expect(elapsed).toBeGreaterThan(1000)
    expect(raw.open).toBe(true)
  })

  it('at its defaults, charges each message a fixed cost: a flood of tiny ones is paced, none lost', async () => {
    let throttles = 0
    relay = await startTestRelay({ metrics: { socketThrottled: () => (throttles += 1) } })
    const raw = await RawSocket.weft(relay.url)
    raws.push(raw)
    // 8 MiB/s at 256 bytes a message plus its size, twice that in a burst: 200,000 tiny
    // messages (about 54 MB) outrun the budget unless sending them takes over 4 s, so the relay
    // stops reading for a while, however busy the machine; every message is still answered.
    const count = 200_000
    for (let nonce = 1; nonce <= count; nonce++) raw.sendMessage({ type: 'ping', nonce })
    await raw.nextMessage((message) => message.type === 'pong' && message.nonce === count, 60_000)
    expect(raw.frames.length - 1).toBe(count)
    expect(throttles).toBeGreaterThan(0)
    expect(raw.open).toBe(true)
  }, 90_000)
})

describe('slow consumers', () => {
  it('closes a reader that does not keep up with 4431; its client reconnects, resyncs and converges', async () => {
    relay = await startTestRelay({ maxBufferedBytes: 256 * 1024 })
    const opened: WebSocket[] = []
    class TrackedWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols)
        opened.push(this)
      }
    }
    const writer = testClient(relay)
    const reader = testClient(relay, { WebSocket: TrackedWebSocket })
    const [source, target] = [writer.open('firehose'), reader.open('firehose')]
    await Promise.all([source.whenSynced(), target.whenSynced()])
    const codes: string[] = []
    reader.on('status', (status) => {
      if (status.state === 'connecting' && status.reason) codes.push(status.reason)
    })
    // The reader stops reading its socket; the relay's send buffer to it fills up.
    const stalled = (opened[0] as unknown as { _socket: { pause(): void; resume(): void } })._socket
    stalled.pause()
    // Random letters: compression (which the relay applies to large frames) barely shrinks them.
    const letters = 'abcdefghijklmnopqrstuvwxyz0123456789'
    const chunk = Array.from({ length: 256 * 1024 }, () =>
      letters.charAt(Math.floor(Math.random() * letters.length)),
    ).join('')
    for (let index = 0; index < 64; index++) {
      source.doc.getText('t').insert(0, chunk)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await source.whenSaved()
    stalled.resume()
    const expected = source.doc.getText('t').length
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('reader did not converge')), 20_000)
      const check = (): void => {
        if (target.doc.getText('t').length === expected) {
          clearTimeout(timer)
          resolve()
        }
      }
      target.doc.on('afterTransaction', check)
      check()
    })
    expect(opened.length).toBeGreaterThan(1)
    expect(codes.join(' ')).toContain('SLOW_CONSUMER')
  }, 30_000)
})
