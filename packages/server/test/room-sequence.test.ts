import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { decodeBusMessage, encodeBusMessage, type BusMessage } from '../src/relay-bus.js'
import {
  GAP_GRACE_MS,
  QUIET_CHECK_MS,
  RoomSequence,
  type CatchUpReason,
} from '../src/room-sequence.js'
import { deferred } from './fakes.js'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

/** A sequence whose catch-up reports `head` and counts its calls. */
const tracked = (headSeq: number, head: () => number) => {
  const calls = { count: 0 }
  const sequence = new RoomSequence({
    headSeq,
    catchUp: () => {
      calls.count += 1
      return Promise.resolve(head())
    },
    failed: () => {},
  })
  return { sequence, calls }
}

describe('RoomSequence', () => {
  it('advances over consecutive records and waits out a gap filled within the grace period', async () => {
    const { sequence, calls } = tracked(3, () => 0)
    sequence.add(4)
    sequence.add(6)
    expect(sequence.through).toBe(4)
    await vi.advanceTimersByTimeAsync(GAP_GRACE_MS - 1)
    sequence.add(5)
    expect(sequence.through).toBe(6)
    await vi.advanceTimersByTimeAsync(GAP_GRACE_MS)
    expect(calls.count).toBe(0)
  })

  it('reads the store once when a gap outlives the grace period, and holds everything it covered', async () => {
    const { sequence, calls } = tracked(0, () => 9)
    sequence.add(2)
    sequence.add(3)
    await vi.advanceTimersByTimeAsync(GAP_GRACE_MS)
    expect(calls.count).toBe(1)
    expect(sequence.through).toBe(9)
    expect(sequence.holds(1)).toBe(true)
    sequence.add(10)
    expect(sequence.through).toBe(10)
  })

  it('stops reading once stopped', async () => {
    const { sequence, calls } = tracked(0, () => 5)
    sequence.add(5)
    sequence.stop()
    await vi.advanceTimersByTimeAsync(GAP_GRACE_MS * 2)
    expect(calls.count).toBe(0)
  })
})

/** A sequence with a head read: the store's head is `store.head`; both reads are counted. */
const withHead = (headSeq: number) => {
  const store = { head: headSeq, heads: 0, loads: 0 }
  const sequence = new RoomSequence({
    headSeq,
    catchUp: () => {
      store.loads += 1
      return Promise.resolve(store.head)
    },
    readHead: () => {
      store.heads += 1
      return Promise.resolve(store.head)
    },
    failed: () => {},
  })
  return { sequence, store }
}

describe('RoomSequence once quiet', () => {
  it("reads the head once after the burst's last record, and catches up when the store is ahead", async () => {
    const { sequence, store } = withHead(0)
    for (let seq = 1; seq <= 5; seq += 1) {
      sequence.add(seq)
      await vi.advanceTimersByTimeAsync(QUIET_CHECK_MS / 2)
    }
    // Record 6 was written, its announcement lost: no gap shows.
    store.head = 6
    await vi.advanceTimersByTimeAsync(QUIET_CHECK_MS / 2 - 1)
    expect(store.heads).toBe(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(store.heads).toBe(1)
    expect(store.loads).toBe(0)
    await vi.advanceTimersByTimeAsync(GAP_GRACE_MS)
    expect(store.loads).toBe(1)
    expect(sequence.through).toBe(6)
    // Quiet now: nothing more is read.
    await vi.advanceTimersByTimeAsync(QUIET_CHECK_MS * 5)
    expect([store.heads, store.loads]).toEqual([1, 1])
  })

  it('reads nothing for a room that held no new record, nor when the head is not ahead', async () => {
    const { sequence, store } = withHead(3)
    await vi.advanceTimersByTimeAsync(QUIET_CHECK_MS * 3)
    expect(store.heads).toBe(0)
    sequence.add(4)
    store.head = 4
    await vi.advanceTimersByTimeAsync(QUIET_CHECK_MS * 3)
    expect([store.heads, store.loads]).toEqual([1, 0])
    sequence.add(5)
    sequence.stop()
    await vi.advanceTimersByTimeAsync(QUIET_CHECK_MS * 3)
    expect(store.heads).toBe(1)
  })

  it('catches up instead when the store cannot read a head alone', async () => {
    const { sequence, calls } = tracked(0, () => 2)
    sequence.add(1)
    await vi.advanceTimersByTimeAsync(QUIET_CHECK_MS)
    expect(calls.count).toBe(1)
    expect(sequence.through).toBe(2)
  })
})

/**
 * A sequence whose reports are recorded; each catch-up waits for `reads` to be answered, and the
 * store's head (for the check once quiet) is `store.head`.
 */
const reporting = (headSeq: number, options: { readHead?: boolean } = {}) => {
  const store = { head: headSeq }
  const reads: ReturnType<typeof deferred<number>>[] = []
  const reports = { gaps: 0, catchUps: [] as [CatchUpReason, number, boolean][] }
  const sequence = new RoomSequence({
    headSeq,
    catchUp: () => {
      const read = deferred<number>()
      reads.push(read)
      return read.promise
    },
    ...(options.readHead === false ? {} : { readHead: () => Promise.resolve(store.head) }),
    failed: () => {},
    gapOpened: () => (reports.gaps += 1),
    caughtUp: (reason, seconds, ok) => reports.catchUps.push([reason, seconds, ok]),
  })
  return { sequence, store, reads, reports }
}

describe('RoomSequence reports', () => {
  it('a gap when a record skips one, and no catch-up when the gap fills within the grace period', async () => {
    const { sequence, reads, reports } = reporting(3)
    sequence.add(4)
    expect(reports.gaps).toBe(0)
    sequence.add(6)
    sequence.add(7)
    expect(reports.gaps).toBe(1)
    sequence.add(5)
    await vi.advanceTimersByTimeAsync(GAP_GRACE_MS * 2)
    expect([reports.gaps, reads.length, reports.catchUps]).toEqual([1, 0, []])
    // A later skip is a new gap.
    sequence.add(9)
    expect(reports.gaps).toBe(2)
  })

  it('a gap outliving the grace period as a catch-up for "gap", with its duration, once it ends', async () => {
    const { sequence, reads, reports } = reporting(0)
    sequence.add(2)
    await vi.advanceTimersByTimeAsync(GAP_GRACE_MS)
    expect(reads).toHaveLength(1)
    expect(reports.catchUps).toEqual([])
    await vi.advanceTimersByTimeAsync(40)
    reads[0]?.resolve(2)
    await vi.advanceTimersByTimeAsync(0)
    expect(reports.catchUps).toEqual([['gap', expect.closeTo(0.04, 2), true]])
    expect([reports.gaps, sequence.through]).toEqual([1, 2])
  })

  it('a catch-up asked for while one runs once, with the reason that started it; a failure as not ok', async () => {
    const { sequence, reads, reports } = reporting(0)
    const first = sequence.catchUp('reconnect')
    const joined = sequence.catchUp('admin')
    reads[0]?.reject(new Error('store down'))
    await Promise.all([first, joined])
    expect(reads).toHaveLength(1)
    expect(reports.catchUps).toEqual([['reconnect', expect.any(Number), false]])
    const next = sequence.catchUp('large-record')
    reads[1]?.resolve(0)
    await next
    expect(reports.catchUps.map(([reason, , ok]) => [reason, ok])).toEqual([
      ['reconnect', false],
      ['large-record', true],
    ])
  })

  it('records found by the check once quiet as a catch-up for "quiet", not as a gap', async () => {
    const { sequence, store, reads, reports } = reporting(0)
    sequence.add(1)
    store.head = 2
    await vi.advanceTimersByTimeAsync(QUIET_CHECK_MS + GAP_GRACE_MS)
    expect(reads).toHaveLength(1)
    reads[0]?.resolve(2)
    await vi.advanceTimersByTimeAsync(0)
    expect(reports.catchUps.map(([reason]) => reason)).toEqual(['quiet'])
    expect(reports.gaps).toBe(0)
  })

  it('the check once quiet on a store without a head read as a catch-up for "quiet"', async () => {
    const { sequence, reads, reports } = reporting(0, { readHead: false })
    sequence.add(1)
    await vi.advanceTimersByTimeAsync(QUIET_CHECK_MS)
    reads[0]?.resolve(1)
    await vi.advanceTimersByTimeAsync(0)
    expect(reports.catchUps.map(([reason]) => reason)).toEqual(['quiet'])
  })
})

describe('bus messages', () => {
  it('round-trip as bytes, and anything else decodes as null', () => {
    const messages: BusMessage[] = [
      {
        kind: 'update',
        doc: 'notes/1',
        origin: 'relay-a',
        seq: 42,
        updates: [new Uint8Array([1, 2]), new Uint8Array([3])],
      },
      { kind: 'update', doc: 'big', origin: 'relay-a', seq: 7, updates: [] },
      { kind: 'update', doc: 'n', origin: 'relay-a', seq: 1, updates: [], incarnation: '1234' },
      { kind: 'awareness', doc: 'notes/1', origin: 'relay-b', update: new Uint8Array([9, 9]) },
      { kind: 'awareness-query', doc: 'ü', origin: 'relay-c' },
      { kind: 'revoke', doc: '', origin: 'relay-d', subject: 'user-7', reason: 'gone' },
      { kind: 'deleted', doc: 'notes/1', origin: 'relay-e' },
    ]
    for (const message of messages)
      expect(decodeBusMessage(encodeBusMessage(message))).toEqual(message)
    // An update without its incarnation (as relays before it wrote them) decodes without one.
    expect(
      decodeBusMessage(
        encodeBusMessage({ kind: 'update', doc: 'n', origin: 'o', seq: 3, updates: [] }),
      ),
    ).not.toHaveProperty('incarnation')
    expect(decodeBusMessage(new Uint8Array([2, 0]))).toBeNull()
    expect(decodeBusMessage(new Uint8Array([1, 0, 5]))).toBeNull()
    // A revoke names no document: one that does is not one this format writes.
    const named = encodeBusMessage({
      kind: 'revoke',
      doc: '',
      origin: 'x',
      subject: 's',
      reason: 'r',
    })
    named[2] = 1
    expect(decodeBusMessage(named)).toBeNull()
    // A deletion does: one on the relay-wide channel is not one either.
    expect(decodeBusMessage(encodeBusMessage({ kind: 'deleted', doc: '', origin: 'x' }))).toBeNull()
    // Kinds this relay does not know (added later) are ignored.
    expect(decodeBusMessage(new Uint8Array([1, 99, 0, 0]))).toBeNull()
  })
})
