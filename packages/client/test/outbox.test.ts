import { describe, expect, it } from 'vitest'
import { Outbox } from '../src/outbox.js'

describe('Outbox', () => {
  it('hands out increasing refs and counts entries and bytes', () => {
    const outbox = new Outbox()
    expect(outbox.push(new Uint8Array(3)).ref).toBe(1)
    expect(outbox.push(new Uint8Array(5)).ref).toBe(2)
    expect(outbox.size).toBe(2)
    expect(outbox.bytes).toBe(8)
    expect(outbox.lastRef).toBe(2)
  })

  it('drops exactly the entries up to an acknowledged ref', () => {
    const outbox = new Outbox()
    for (let index = 0; index < 5; index++) outbox.push(new Uint8Array(index + 1))
    expect(outbox.acknowledge(0)).toBe(0)
    expect(outbox.acknowledge(3)).toBe(3)
    expect(outbox.size).toBe(2)
    expect(outbox.bytes).toBe(4 + 5)
    expect(outbox.acknowledge(3)).toBe(0)
    expect(outbox.acknowledge(99)).toBe(2)
    expect(outbox.size).toBe(0)
    expect(outbox.bytes).toBe(0)
  })

  it('stays exact across its internal compaction', () => {
    const outbox = new Outbox()
    for (let index = 0; index < 5000; index++) outbox.push(new Uint8Array(1))
    expect(outbox.acknowledge(3000)).toBe(3000)
    expect(outbox.acknowledge(4000)).toBe(1000)
    expect(outbox.size).toBe(1000)
    expect(outbox.push(new Uint8Array(1)).ref).toBe(5001)
    expect(outbox.acknowledge(5001)).toBe(1001)
  })
})
