/**
 * JoinFrames: the whole-state frame for fresh joiners, built once per change of the document and
 * never stale; and on the real relay, fresh clients joining after an edit get it.
 */
import { decodeMessage, expandFrame } from '@weft/protocol'
import { RawSocket, startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { JoinFrames } from '../src/join-frames.js'

let relay: TestRelay | null = null
afterEach(async () => {
  await relay?.close()
  relay = null
})

/** The text `t` a sync-step-2 frame (compressed or not) carries. */
const textOf = (frame: Uint8Array): string => {
  let message = decodeMessage(frame)
  if (message.type === 'compressed') message = decodeMessage(expandFrame(message, 1 << 26))
  if (message.type !== 'sync-step-2') throw new Error(`not a sync-step-2: ${message.type}`)
  const doc = new Y.Doc()
  Y.applyUpdate(doc, message.update)
  return doc.getText('t').toString()
}

describe('JoinFrames', () => {
  it('builds the frame once per change and threshold, and never serves a stale one', () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'x'.repeat(100_000))
    const frames = new JoinFrames(doc, 'notes')
    const compressed = frames.frame(64 * 1024)
    expect(frames.frame(64 * 1024)).toBe(compressed)
    expect(compressed.length).toBeLessThan(10_000)
    const plain = frames.frame(null)
    expect(plain).not.toBe(compressed)
    expect(plain.length).toBeGreaterThan(100_000)
    expect(textOf(plain)).toBe(textOf(compressed))
    doc.getText('t').insert(0, 'new ')
    const after = frames.frame(64 * 1024)
    expect(after).not.toBe(compressed)
    expect(textOf(after).startsWith('new x')).toBe(true)
  })

  it('gives every fresh joiner of the relay the same frame, and the edits made since', async () => {
    relay = await startTestRelay()
    const writer = testClient(relay).open('notes')
    await writer.whenSynced()
    writer.doc.getText('t').insert(0, 'y'.repeat(200_000))
    await writer.whenSaved()
    const syncFrame = async (): Promise<Uint8Array> => {
      const raw = await RawSocket.weft(relay!.url)
      raw.sendMessage({ type: 'open', doc: 'notes', stateVector: Uint8Array.of(0) })
      const frame = await raw.nextFrame((bytes) => {
        const type = decodeMessage(bytes).type
        return type === 'sync-step-2' || type === 'compressed'
      })
      raw.close()
      return frame
    }
    const storm = await Promise.all(Array.from({ length: 20 }, syncFrame))
    for (const frame of storm) expect(frame).toEqual(storm[0])
    expect(textOf(storm[0] as Uint8Array)).toBe('y'.repeat(200_000))
    writer.doc.getText('t').insert(0, 'edited ')
    await writer.whenSaved()
    expect(textOf(await syncFrame()).startsWith('edited y')).toBe(true)
  })
})
