import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { awarenessClientIds } from '../src/agents/awareness-frames.js'

/** lib0's varuint: 7 bits a byte, least significant first. */
const varUint = (value: number): number[] => {
  const bytes: number[] = []
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80)
    value = Math.floor(value / 0x80)
  }
  bytes.push(value)
  return bytes
}
const varBytes = (bytes: Uint8Array): number[] => [...varUint(bytes.length), ...bytes]
const varString = (text: string): number[] => varBytes(new TextEncoder().encode(text))

/** An awareness update naming two clients, one of them with a client id over 2^31. */
const update = (): { update: Uint8Array; ids: number[] } => {
  const awareness = new Awareness(new Y.Doc())
  awareness.setLocalState({ cursor: 1 })
  const other = 3_000_000_123
  awareness.states.set(other, { cursor: 2, user: { name: 'ü' } })
  awareness.meta.set(other, { clock: 300, lastUpdated: 0 })
  const ids = [awareness.clientID, other]
  const bytes = encodeAwarenessUpdate(awareness, ids)
  awareness.destroy()
  return { update: bytes, ids }
}

describe('awarenessClientIds', () => {
  const { update: bytes, ids } = update()

  it('reads a Weft awareness message (tag 7, doc, update)', () => {
    const frame = Uint8Array.from([7, ...varString('notes/1'), ...varBytes(bytes)])
    expect(awarenessClientIds('weft', frame)).toEqual(ids)
  })

  it('reads a y-websocket awareness message (type 1, update)', () => {
    const frame = Uint8Array.from([1, ...varBytes(bytes)])
    expect(awarenessClientIds('y-websocket', frame)).toEqual(ids)
  })

  it('reads a Hocuspocus awareness message (document, type 1, update)', () => {
    const frame = Uint8Array.from([...varString('notes/1'), 1, ...varBytes(bytes)])
    expect(awarenessClientIds('hocuspocus', frame)).toEqual(ids)
  })

  it('says null for other messages and for frames it cannot read', () => {
    expect(awarenessClientIds('weft', Uint8Array.from([6, ...varString('d'), 0, 0]))).toBeNull()
    expect(awarenessClientIds('y-websocket', Uint8Array.from([0, 0, 0]))).toBeNull()
    expect(awarenessClientIds('y-websocket', Uint8Array.from([1, 9, 1]))).toBeNull()
    expect(awarenessClientIds('hocuspocus', Uint8Array.from([1, 0x64, 0]))).toBeNull()
  })

  it('reads an update naming no client as an empty list', () => {
    expect(awarenessClientIds('y-websocket', Uint8Array.from([1, 1, 0]))).toEqual([])
  })
})
