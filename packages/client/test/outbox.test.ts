import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { Outbox } from '../src/outbox.js'

describe('Outbox', () => {
  it('hands out increasing refs and counts entries and bytes', () => {
    const outbox = new Outbox()
    expect(outbox.push(new Uint8Array(3), 100).ref).toBe(1)
    expect(outbox.push(new Uint8Array(5), 200).ref).toBe(2)
    expect(outbox.size).toBe(2)
    expect(outbox.bytes).toBe(8)
    expect(outbox.lastRef).toBe(2)
    expect(outbox.oldestRef).toBe(1)
    expect(outbox.oldestAtMs).toBe(100)
    outbox.acknowledge(1)
    expect(outbox.oldestAtMs).toBe(200)
    outbox.acknowledge(2)
    expect(outbox.oldestAtMs).toBeNull()
  })

  it('drops exactly the entries up to an acknowledged ref', () => {
    const outbox = new Outbox()
    for (let index = 0; index < 5; index++) outbox.push(new Uint8Array(index + 1), index)
    expect(outbox.acknowledge(0)).toEqual([])
    expect(outbox.acknowledge(3)).toEqual([1, 2, 3])
    expect(outbox.size).toBe(2)
    expect(outbox.bytes).toBe(4 + 5)
    expect(outbox.acknowledge(3)).toEqual([])
    expect(outbox.acknowledge(99)).toEqual([4, 5])
    expect(outbox.size).toBe(0)
    expect(outbox.bytes).toBe(0)
    expect(outbox.oldestRef).toBeUndefined()
  })

  it('continues after the last ref it was restored with, never reusing one', () => {
    const outbox = new Outbox(41)
    outbox.restore({ ref: 40, update: new Uint8Array(2) }, 0)
    expect(outbox.push(new Uint8Array(1), 0).ref).toBe(42)
    expect(outbox.refs()).toEqual([40, 42])
  })

  it('settles edits whose structs a durable state vector covers, but never deletions', () => {
    const doc = new Y.Doc()
    doc.clientID = 5
    const updates: Uint8Array[] = []
    doc.on('update', (update: Uint8Array) => updates.push(update))
    const text = doc.getText('t')
    text.insert(0, 'abc') // clock 0..2
    text.insert(3, 'def') // clock 3..5
    text.delete(0, 1) // deletion only
    const outbox = new Outbox()
    for (const update of updates) outbox.push(update, 0)
    expect(outbox.settleCovered(new Map([[5, 3]]))).toEqual([1])
    expect(outbox.settleCovered(new Map([[5, 6]]))).toEqual([2])
    expect(outbox.refs()).toEqual([3])
  })
})
