import { ERROR_CODES, type WeftMessage } from '@weft/protocol'
import { RawSocket, startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

/**
 * Byte sequences from Yjs's own tests/limits.tests.js (yjs/yjs): updates that declare enormous
 * numbers of structs, updates or GC lengths in a few bytes. Sent here as v1 updates.
 */
const YJS_LIMIT_VECTORS: Record<string, number[]> = {
  '4398046511101 structs (v2)': [
    0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 1, 2, 0, 0, 22, 2, 0, 0, 1, 253, 255, 255, 255, 255, 127, 0, 0,
  ],
  '265828 updates (v1)': [
    228, 156, 16, 0, 5, 255, 255, 5, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 237, 0, 0, 0, 1, 1, 0, 254, 184,
    194, 233, 173, 135, 217, 18, 0, 0, 1, 1, 255, 237, 246,
  ],
  '7658324286 updates (v2)': [
    228, 149, 0, 0, 1, 24, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 237, 1, 190, 130, 227, 195, 28, 1, 2, 228,
    149, 0, 0, 1, 24, 0, 0, 1, 24, 0, 0, 1, 0, 1, 237, 0,
  ],
  'a GC item of length 553253 (v2)': [
    143, 1, 128, 0, 0, 0, 1, 170, 1, 0, 1, 2, 0, 0, 22, 2, 0, 229, 196, 67, 20, 231, 166, 139, 147,
    174, 181, 253, 93, 232, 38, 154, 138, 89, 0, 49, 213, 15, 18, 1, 48, 0, 0, 0,
  ],
  '267854847 structs in one update (v2)': [
    0, 1, 35, 0, 0, 0, 1, 2, 129, 0, 0, 16, 0, 199, 220, 0, 196, 122, 128, 0, 65, 171, 234, 214, 0,
    1, 0, 0, 1, 0, 0, 132, 0, 0, 16, 255, 199, 220, 255, 0, 0, 0,
  ],
}

/** An update whose one array element is `bytes` in place of an encoded marker string. */
const withContent = (
  replacement: number[],
  make: (doc: Y.Doc, marker: string) => void,
): Uint8Array => {
  const doc = new Y.Doc()
  doc.clientID = 4242
  const marker = 'MARKER-4242'
  make(doc, marker)
  const update = [...Y.encodeStateAsUpdate(doc)]
  const needle = [...new TextEncoder().encode(marker)]
  // The marker is written as varUint length + UTF-8 bytes; replace both.
  const at = update.findIndex((_, index) => needle.every((byte, k) => update[index + k] === byte))
  if (at < 1) throw new Error('marker not found')
  return new Uint8Array([
    ...update.slice(0, at - 2),
    ...replacement,
    ...update.slice(at + needle.length),
  ])
}

const pathological = (): Record<string, Uint8Array> => {
  const depth = 200_000
  // ContentAny: tag 117 (array) + length 1, nested `depth` times, then 126 (null).
  const nested = [...Array.from({ length: depth }, () => [117, 1]).flat(), 126]
  const cases: Record<string, Uint8Array> = {}
  for (const [name, bytes] of Object.entries(YJS_LIMIT_VECTORS)) cases[name] = new Uint8Array(bytes)
  // The array element was written as tag 119 (string); replace tag, length and bytes.
  cases['an array value nested 200,000 deep'] = withContent(nested, (doc, marker) =>
    doc.getArray('a').push([marker]),
  )
  // Text content whose bytes are not UTF-8: cannot round-trip, so it must not be stored.
  cases['text that is not UTF-8'] = withContent([5, 0x68, 0xc3, 0x28, 0xff, 0x69], (doc, marker) =>
    doc.getText('t').insert(0, marker),
  )
  cases['a state-update count of 2^49'] = new Uint8Array([
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 1, 7, 0,
  ])
  cases['a string length of 2^35'] = withContent(
    [0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x61],
    (doc, marker) => doc.getText('t').insert(0, marker),
  )
  return cases
}

let relay: TestRelay | undefined
const sockets: RawSocket[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close()
  await relay?.close()
  relay = undefined
})

describe('pathological updates', () => {
  it('are refused within a bounded time on a Weft socket, nothing stored, honest clients unaffected', async () => {
    relay = await startTestRelay()
    const notes = testClient(relay).open('target')
    await notes.whenSynced()
    notes.doc.getText('t').insert(0, 'honest text')
    await notes.whenSaved()

    const raw = await RawSocket.weft(relay.url)
    sockets.push(raw)
    raw.sendMessage({ type: 'open', doc: 'target', stateVector: new Uint8Array([0]) })
    await raw.nextMessage((message) => message.type === 'sync-step-2')
    let ref = 0
    let worstMs = 0
    for (const [name, update] of Object.entries(pathological())) {
      ref += 1
      const started = performance.now()
      raw.sendMessage({ type: 'update', doc: 'target', ref, update })
      const answer = (await raw.nextMessage(
        (message: WeftMessage) => message.type === 'rejected' && message.ref === ref,
        5000,
      )) as Extract<WeftMessage, { type: 'rejected' }>
      const took = performance.now() - started
      worstMs = Math.max(worstMs, took)
      expect(answer.code, name).toBe('BAD_UPDATE')
      expect(took, `${name} took ${took.toFixed(1)} ms`).toBeLessThan(1000)
      // The relay stays responsive between attacks.
      raw.sendMessage({ type: 'ping', nonce: ref })
      await raw.nextMessage((message) => message.type === 'pong' && message.nonce === ref)
    }
    console.log(`pathological updates: worst refusal ${worstMs.toFixed(1)} ms`)
    expect(raw.open).toBe(true)

    notes.doc.getText('t').insert(0, '> ')
    await notes.whenSaved()
    const check = testClient(relay).open('target')
    await check.whenSynced()
    expect(check.doc.getText('t').toString()).toBe('> honest text')
    expect(check.doc.getArray('a').length).toBe(0)
  })

  it('close a y-websocket socket with 4422 and leave the document as it was', async () => {
    relay = await startTestRelay()
    for (const [name, update] of Object.entries(pathological())) {
      const raw = await RawSocket.open(`${relay.url}/yws-target`, false)
      sockets.push(raw)
      await raw.nextFrame()
      // y-websocket message 0 (sync), 2 (update), then the update as var-length bytes.
      const length: number[] = []
      for (let value = update.length; ; value >>>= 7) {
        if (value < 0x80) {
          length.push(value)
          break
        }
        length.push((value & 0x7f) | 0x80)
      }
      raw.send(new Uint8Array([0, 2, ...length, ...update]))
      expect((await raw.closed).code, name).toBe(ERROR_CODES.BAD_UPDATE.closeCode)
    }
    const stored = await relay.store.load('yws-target')
    expect(stored.updates).toEqual([])
  })
})
