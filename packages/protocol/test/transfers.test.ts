import { describe, expect, it, vi } from 'vitest'
import {
  ChunkedFrame,
  CHUNK_BYTES,
  decodeMessage,
  encodeMessage,
  newTransferId,
  TransferReceiver,
  TransferSender,
  type ChunkMessage,
  type ResumeMessage,
  type WeftError,
} from '../src/index.js'

const bytes = (length: number, seed = 1): Uint8Array => {
  const out = new Uint8Array(length)
  for (let index = 0; index < length; index++) out[index] = (index * 31 + seed) & 0xff
  return out
}

/** A sender and a receiver joined by an in-memory wire that can be cut. */
const link = (chunkBytes = 1000) => {
  const wire: Uint8Array[] = []
  const sender = new TransferSender({
    send: (frame) => wire.push(frame),
    chunkBytes,
    cut: (frame) => new ChunkedFrame(newTransferId(), frame, { chunkBytes }),
    window: 3,
  })
  const receiver = new TransferReceiver({ maxBytes: 1 << 20, maxHeldBytes: 1 << 21 })
  const delivered: Uint8Array[] = []
  let chunksSent = 0
  /** Delivers what is on the wire (and the answers), up to `limit` chunks; returns whether any moved. */
  const flow = (limit = Number.POSITIVE_INFINITY): void => {
    while (wire.length > 0 && chunksSent < limit) {
      const frame = wire.shift() as Uint8Array
      const message = decodeMessage(frame)
      if (message.type !== 'chunk') {
        delivered.push(frame)
        continue
      }
      chunksSent += 1
      const outcome = receiver.receive(message.transfer, message)
      if (outcome.kind === 'frame') delivered.push(outcome.frame)
      sender.resumed(outcome.ack)
    }
  }
  return { wire, sender, receiver, delivered, flow, chunks: () => chunksSent }
}

describe('chunked transfers', () => {
  it('sends small frames whole and large ones in chunks of at most CHUNK_BYTES, in order', () => {
    const { sender, delivered, flow, wire } = link(CHUNK_BYTES)
    const big = bytes(CHUNK_BYTES * 2 + 17)
    const ping = encodeMessage({ type: 'ping', nonce: 1 })
    const pong = encodeMessage({ type: 'pong', nonce: 2 })
    sender.send(ping)
    sender.send(big)
    sender.send(pong)
    // The frame after the transfer waits for it; the window bounds what is on the wire.
    expect(wire.length).toBe(1 + 3)
    expect(sender.queuedBytes).toBe(pong.length)
    expect(wire.every((frame) => frame.length < 256_000)).toBe(true)
    flow()
    expect(delivered).toEqual([ping, big, pong])
    expect(sender.busy).toBe(false)
  })

  it('keeps the sender within its window until the receiver answers', () => {
    const { sender, wire } = link(100)
    sender.send(bytes(1000))
    expect(wire.length).toBe(3)
    const first = decodeMessage(wire[0] as Uint8Array) as ChunkMessage
    expect(first).toMatchObject({ index: 0, count: 10, size: 1000 })
    sender.resumed({ type: 'resume', transfer: first.transfer, received: 1 })
    expect(wire.length).toBe(4)
  })

  it('resumes an unfinished transfer on the next connection from the last chunk received', () => {
    const { sender, receiver, delivered, flow, wire, chunks } = link(100)
    const frame = bytes(5000, 7)
    sender.send(frame)
    flow(20)
    const held = receiver.pending()
    expect(held).toHaveLength(1)
    expect(held[0]?.received).toBe(20)
    // The connection drops with chunks on the wire.
    wire.length = 0
    sender.end()
    // Next connection: the same bytes again, and the receiver's `resume` first.
    sender.send(frame)
    sender.resumed(held[0] as ResumeMessage)
    flow()
    expect(delivered).toEqual([frame])
    // 50 chunks, a few resent (the window that was on the wire): far from starting over.
    expect(chunks()).toBeLessThan(50 + 20)
    expect(receiver.heldBytes).toBe(0)
  })

  it('starts again from zero when the receiver lost the transfer', () => {
    const { sender, delivered, flow, wire } = link(100)
    const frame = bytes(1000, 3)
    sender.send(frame)
    flow(4)
    wire.length = 0
    sender.end()
    const fresh = link(100)
    // Same sender, a receiver that never saw it: its answer to chunk 4 is "I hold nothing".
    const received: Uint8Array[] = []
    const receiver = fresh.receiver
    sender.send(frame)
    for (let round = 0; round < 100 && wire.length > 0; round++) {
      const message = decodeMessage(wire.shift() as Uint8Array) as ChunkMessage
      const outcome = receiver.receive(message.transfer, message)
      if (outcome.kind === 'frame') received.push(outcome.frame)
      sender.resumed(outcome.ack)
    }
    expect(delivered).toEqual([])
    expect(received).toEqual([frame])
  })

  it('refuses a transfer over its limit at the first chunk and stops the sender', () => {
    const receiver = new TransferReceiver({ maxBytes: 500, maxHeldBytes: 1000 })
    const chunks = new ChunkedFrame('t1', bytes(900), { chunkBytes: 300 })
    const first = decodeMessage(chunks.chunk(0)) as ChunkMessage
    const outcome = receiver.receive('t1', first)
    expect(outcome.kind).toBe('too-large')
    expect(outcome.ack.received).toBe(3)
    expect(receiver.heldBytes).toBe(0)
    const second = decodeMessage(chunks.chunk(1)) as ChunkMessage
    expect(receiver.receive('t1', second)).toEqual({
      kind: 'ack',
      ack: { type: 'resume', transfer: 't1', received: 3 },
    })
  })

  it('drops the least recently fed transfer beyond its budget, and transfers not resumed', () => {
    const receiver = new TransferReceiver({ maxBytes: 1000, maxHeldBytes: 1500 })
    const a = new ChunkedFrame('a', bytes(1000), { chunkBytes: 400 })
    const b = new ChunkedFrame('b', bytes(1000), { chunkBytes: 400 })
    receiver.receive('a', decodeMessage(a.chunk(0)) as ChunkMessage)
    receiver.receive('b', decodeMessage(b.chunk(0)) as ChunkMessage)
    expect(receiver.pending().map((message) => message.transfer)).toEqual(['b'])
    receiver.dropUntouched()
    expect(receiver.pending()).toEqual([])
    expect(receiver.heldBytes).toBe(0)
  })

  it.each([
    ['an empty id', { transfer: '' }],
    ['no chunks', { count: 0 }],
    ['an index past the count', { index: 5, count: 5 }],
    ['more chunks than bytes', { count: 20, size: 10 }],
    ['an empty payload', { payload: new Uint8Array() }],
  ])('refuses a chunk with %s (BAD_MESSAGE)', (_, change) => {
    const receiver = new TransferReceiver({ maxBytes: 1000, maxHeldBytes: 1000 })
    const chunk: ChunkMessage = {
      type: 'chunk',
      transfer: 't',
      index: 0,
      count: 2,
      size: 20,
      payload: bytes(10),
      ...change,
    }
    // Through the codec: what a peer could really send.
    const message = decodeMessage(encodeMessage(chunk)) as ChunkMessage
    expect(() => receiver.receive('t', message)).toThrow(
      expect.objectContaining({ code: 'BAD_MESSAGE' }) as WeftError,
    )
  })

  it('refuses chunks whose bytes do not add up to the announced size', () => {
    const receiver = new TransferReceiver({ maxBytes: 1000, maxHeldBytes: 1000 })
    const base = { type: 'chunk' as const, transfer: 't', count: 2, size: 20 }
    receiver.receive('t', { ...base, index: 0, payload: bytes(10) })
    expect(() => receiver.receive('t', { ...base, index: 1, payload: bytes(5) })).toThrow(
      /announced 20 bytes/,
    )
    receiver.receive('u', { ...base, transfer: 'u', index: 0, payload: bytes(15) })
    expect(() =>
      receiver.receive('u', { ...base, transfer: 'u', index: 1, payload: bytes(15) }),
    ).toThrow(/over its 20 bytes/)
  })

  it('refuses a chunk size over CHUNK_BYTES when cutting', () => {
    expect(() => new ChunkedFrame('t', bytes(10), { chunkBytes: CHUNK_BYTES + 1 })).toThrow(
      /chunkBytes/,
    )
  })
})

describe('idle transfers', () => {
  it('are dropped when a new transfer starts after maxIdleMs', () => {
    const receiver = new TransferReceiver({ maxBytes: 1000, maxHeldBytes: 10_000, maxIdleMs: 1000 })
    const a = new ChunkedFrame('a', bytes(1000), { chunkBytes: 400 })
    const b = new ChunkedFrame('b', bytes(1000), { chunkBytes: 400 })
    receiver.receive('a', decodeMessage(a.chunk(0)) as ChunkMessage, 0)
    receiver.receive('b', decodeMessage(b.chunk(0)) as ChunkMessage, 500)
    expect(receiver.heldBytes).toBe(2000)
    const c = new ChunkedFrame('c', bytes(1000), { chunkBytes: 400 })
    receiver.receive('c', decodeMessage(c.chunk(0)) as ChunkMessage, 1200)
    expect(receiver.pending().map((message) => message.transfer)).toEqual(['b', 'c'])
  })
})

describe('newTransferId', () => {
  it('gives distinct 22-character base64url ids, with or without WebCrypto', () => {
    const check = (): void => {
      const ids = new Set(Array.from({ length: 100 }, () => newTransferId()))
      expect(ids.size).toBe(100)
      for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/)
    }
    check()
    vi.stubGlobal('crypto', undefined)
    try {
      check()
    } finally {
      vi.unstubAllGlobals()
    }
  })
})
