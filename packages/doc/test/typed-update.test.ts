import { chooseSeed, mulberry32 } from '@weft/testkit'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { scanDeletionUpdate, scanTypedUpdate } from '../src/typed-update.js'
import { summarizeUpdate } from '../src/update-summary.js'

/** What matters of a decoded item. */
const shape = (item: Y.Item | Y.GC) =>
  item instanceof Y.Item
    ? {
        id: item.id,
        origin: item.origin,
        rightOrigin: item.rightOrigin,
        parent: item.parent,
        parentSub: item.parentSub,
        content: item.content instanceof Y.ContentString ? item.content.str : item.content,
        length: item.length,
      }
    : item

describe('scanTypedUpdate and scanDeletionUpdate', () => {
  it('read typing and erasing as Y.decodeUpdate does, and leave every other update to it (seeded)', () => {
    const seed = chooseSeed('typed update scan')
    const random = mulberry32(seed)
    const doc = new Y.Doc()
    const updates: Uint8Array[] = []
    doc.on('update', (update: Uint8Array) => updates.push(update))
    const text = doc.getText('t')
    for (let step = 0; step < 2_000; step++) {
      const roll = random()
      const at = Math.floor(random() * (text.length + 1))
      if (roll < 0.5) text.insert(at, 'aé€😀'.slice(0, 1 + Math.floor(random() * 4)))
      // ASCII runs shorter and longer than what the scan reads byte by byte (32 bytes).
      else if (roll < 0.6) text.insert(at, 'abcdefghij'.repeat(1 + Math.floor(random() * 5)))
      else if (roll < 0.8 && text.length > 0) text.delete(Math.min(at, text.length - 1), 1)
      else if (roll < 0.9) doc.getMap('m').set('k', step)
      else text.format(0, Math.min(2, text.length), { bold: true })
    }
    let scanned = 0
    let deletions = 0
    for (const [index, update] of updates.entries()) {
      const at = `seed=${seed} update ${index}`
      const decoded = Y.decodeUpdate(update)
      const scan = scanTypedUpdate(update)
      if (scan !== null) {
        scanned += 1
        expect(decoded.structs.map(shape), at).toEqual(scan.structs.map(shape))
        expect(decoded.ds.clients.size, at).toBe(0)
        expect(summarizeUpdate(update), at).toEqual({
          ok: true,
          summary: {
            endClocks: new Map([[doc.clientID, scan.structs[0].id.clock + scan.structs[0].length]]),
            hasDeletes: false,
            isEmpty: false,
          },
        })
      } else {
        const one = decoded.structs.length === 1 ? decoded.structs[0] : undefined
        const typed =
          one instanceof Y.Item &&
          one.origin !== null &&
          one.content instanceof Y.ContentString &&
          decoded.ds.clients.size === 0
        expect(typed, `${at} is a typed run the scan left`).toBe(false)
      }
      const erased = scanDeletionUpdate(update)
      const ranges = (ds: typeof decoded.ds) =>
        [...ds.clients].map(([client, items]) => [
          client,
          items.map(({ clock, len }) => ({ clock, len })),
        ])
      if (erased !== null) {
        deletions += 1
        expect(decoded.structs, at).toEqual([])
        expect(ranges(erased.ds), at).toEqual(ranges(decoded.ds))
        expect(summarizeUpdate(update), at).toEqual({
          ok: true,
          summary: { endClocks: new Map(), hasDeletes: true, isEmpty: false },
        })
      } else {
        const erasing = decoded.structs.length === 0 && decoded.ds.clients.size === 1
        expect(erasing, `${at} is an erasure the scan left`).toBe(false)
      }
      // Cut short, it is never read as typing or erasing.
      for (const cut of [1, 2, update.length - 1]) {
        expect(scanTypedUpdate(update.subarray(0, cut)), at).toBeNull()
        expect(scanDeletionUpdate(update.subarray(0, cut)), at).toBeNull()
      }
    }
    expect(scanned, `seed=${seed}`).toBeGreaterThan(500)
    expect(deletions, `seed=${seed}`).toBeGreaterThan(100)
  })
})
