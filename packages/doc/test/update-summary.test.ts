import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { decodeUpdate, decodeUpdates, summarizeUpdate } from '../src/update-summary.js'

const anUpdate = (): Uint8Array => {
  const doc = new Y.Doc()
  doc.clientID = 7
  doc.getText('t').insert(0, 'hello')
  doc.getText('t').delete(0, 1)
  return Y.encodeStateAsUpdate(doc)
}

describe('summarizeUpdate', () => {
  it('says what an update holds, and refuses what does not decode', () => {
    const summary = summarizeUpdate(anUpdate())
    expect(summary).toEqual({
      ok: true,
      summary: { endClocks: new Map([[7, 5]]), hasDeletes: true, isEmpty: false },
    })
    expect(summarizeUpdate(Uint8Array.of(1, 2, 3))).toMatchObject({
      ok: false,
      error: { code: 'BAD_UPDATE' },
    })
  })

  it('takes, once, the decoding decodeUpdate made of the same bytes', () => {
    const update = anUpdate()
    const expected = summarizeUpdate(update)
    expect(decodeUpdate(update).structs.length).toBeGreaterThan(0)
    // Overwritten after decoding: the summary still comes from the decoding made before...
    update.fill(255)
    expect(summarizeUpdate(update)).toEqual(expected)
    // ...once: asked again, it decodes the bytes as they are now.
    expect(summarizeUpdate(update)).toMatchObject({ ok: false, error: { code: 'BAD_UPDATE' } })
  })

  it("takes the decodings of the last message decoded, in the message's order", () => {
    const [first, second, other] = [anUpdate(), anUpdate(), anUpdate()]
    const expected = summarizeUpdate(first as Uint8Array)
    decodeUpdates([first as Uint8Array, second as Uint8Array])
    first?.fill(255)
    second?.fill(255)
    // Not the next update of the message: decoded from its bytes, and the message still waits.
    expect(summarizeUpdate(other as Uint8Array)).toEqual(expected)
    expect(summarizeUpdate(first as Uint8Array)).toEqual(expected)
    expect(summarizeUpdate(second as Uint8Array)).toEqual(expected)
    expect(summarizeUpdate(second as Uint8Array)).toMatchObject({ ok: false })
    // The next message decoded replaces one not summarized whole.
    const [third, fourth] = [anUpdate(), anUpdate()]
    decodeUpdates([third as Uint8Array])
    decodeUpdates([fourth as Uint8Array])
    third?.fill(255)
    fourth?.fill(255)
    expect(summarizeUpdate(third as Uint8Array)).toMatchObject({ ok: false })
    expect(summarizeUpdate(fourth as Uint8Array)).toEqual(expected)
  })
})
