import { describe, expect, it } from 'vitest'
import { Outbox } from '../src/outbox.js'
import { wantsOutboxMerge } from '../src/outbox-compaction.js'

const bytes = (length: number): Uint8Array => new Uint8Array(length)

/** An outbox holding `count` edits of `size` bytes, the first made at 100 ms, then every 10 ms. */
const filled = (count: number, size = 4): Outbox => {
  const outbox = new Outbox()
  for (let index = 0; index < count; index++) outbox.push(bytes(size), 100 + index * 10)
  return outbox
}

describe('Outbox merges', () => {
  it('replace every entry with one under the newest ref, dated by the oldest edit', () => {
    const outbox = filled(5)
    const merged = outbox.mergeAll(bytes(7))
    expect(merged.record.ref).toBe(5)
    expect(merged.replaced).toEqual([1, 2, 3, 4])
    expect(outbox.refs()).toEqual([5])
    expect(outbox.size).toBe(1)
    expect(outbox.edits).toBe(5)
    expect(outbox.bytes).toBe(7)
    expect(outbox.mergedBytes).toBe(7)
    expect(outbox.oldestRef).toBe(1)
    expect(outbox.oldestAtMs).toBe(100)
    expect(outbox.get(3)).toBe(merged.record.update)
    expect(outbox.keyOf(3)).toBe(5)
    expect(outbox.firstRefOf(5)).toBe(1)
    expect(outbox.push(bytes(2), 500).ref).toBe(6)
    expect(outbox.edits).toBe(6)
  })

  it('are not settled by a saved ref between the merged refs, only by their newest', () => {
    const outbox = filled(5)
    outbox.mergeAll(bytes(7))
    outbox.push(bytes(2), 500)
    // The relay saved edits 1 to 3 (sent before the merge): they no longer count, the entry waits.
    expect(outbox.acknowledge(3)).toEqual([1, 2, 3])
    expect(outbox.refs()).toEqual([5, 6])
    expect(outbox.edits).toBe(3)
    expect(outbox.bytes).toBe(9)
    expect(outbox.oldestRef).toBe(4)
    expect(outbox.keyOf(2)).toBeUndefined()
    expect(outbox.keyOf(4)).toBe(5)
    expect(outbox.acknowledge(5)).toEqual([5])
    expect(outbox.refs()).toEqual([6])
    expect(outbox.edits).toBe(1)
    expect(outbox.mergedBytes).toBe(0)
    expect(outbox.oldestAtMs).toBe(500)
  })

  it('count only the edits still waiting when some were settled before the merge', () => {
    const outbox = filled(6)
    outbox.remove(3) // say, settled by a durable state vector
    outbox.remove(6) // or set aside
    outbox.mergeAll(bytes(9))
    expect(outbox.refs()).toEqual([5])
    expect(outbox.edits).toBe(4)
    expect(outbox.keyOf(3)).toBeUndefined()
    expect(outbox.keyOf(4)).toBe(5)
    expect(outbox.acknowledge(2)).toEqual([1, 2])
    expect(outbox.oldestRef).toBe(4)
    expect(outbox.edits).toBe(2)
    // A merge of a merged entry and new edits keeps standing for every one of them.
    outbox.push(bytes(1), 900)
    outbox.mergeAll(bytes(10))
    expect(outbox.refs()).toEqual([7])
    expect(outbox.edits).toBe(3)
    // Dated by its oldest edit, saved since: an entry keeps one time, erring on the old side.
    expect(outbox.oldestAtMs).toBe(100)
    expect(outbox.remove(7)).toBe(true)
    expect(outbox.edits).toBe(0)
    expect(outbox.bytes).toBe(0)
  })

  it('count a merged entry restored from the local store as one edit', () => {
    const outbox = new Outbox(9)
    outbox.restore({ ref: 9, update: bytes(30) }, 1_000)
    expect(outbox.edits).toBe(1)
    expect(outbox.oldestRef).toBe(9)
    expect(outbox.push(bytes(1), 2_000).ref).toBe(10)
  })

  it('refuse to merge an empty outbox', () => {
    expect(() => new Outbox().mergeAll(bytes(1))).toThrow(RangeError)
  })
})

describe('wantsOutboxMerge', () => {
  const policy = { maxEntries: 4, maxBytes: 100 }

  it('past either bound, once the edits since the last merge hold as many bytes as it', () => {
    expect(wantsOutboxMerge(filled(4), policy)).toBe(false)
    expect(wantsOutboxMerge(filled(5), policy)).toBe(true)
    expect(wantsOutboxMerge(filled(2, 60), policy)).toBe(true)
    const outbox = filled(5)
    outbox.mergeAll(bytes(40))
    for (let index = 0; index < 5; index++) outbox.push(bytes(4), 0)
    // Five new entries of 20 bytes: past maxEntries, but re-encoding 40 bytes for 20 waits.
    expect(wantsOutboxMerge(outbox, policy)).toBe(false)
    for (let index = 0; index < 5; index++) outbox.push(bytes(4), 0)
    expect(wantsOutboxMerge(outbox, policy)).toBe(true)
  })
})
