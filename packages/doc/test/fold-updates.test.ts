import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { foldUpdates } from '../src/fold-updates.js'

describe('foldUpdates', () => {
  it('folds a history with insertions and deletions into one update with the same content', () => {
    const doc = new Y.Doc({ gc: false })
    const updates: Uint8Array[] = []
    doc.on('update', (update: Uint8Array) => updates.push(update))
    const text = doc.getText('t')
    text.insert(0, 'hello world')
    text.delete(0, 6)
    doc.getMap('m').set('a', 1)
    doc.getMap('m').delete('a')
    text.insert(5, '!')
    const folded = foldUpdates(updates)
    const replica = new Y.Doc({ gc: false })
    Y.applyUpdate(replica, folded)
    expect(replica.getText('t').toString()).toBe('world!')
    expect(replica.getMap('m').has('a')).toBe(false)
    // Nothing was garbage-collected: the fold equals what Y.mergeUpdates gives.
    const merged = new Y.Doc({ gc: false })
    Y.applyUpdate(merged, Y.mergeUpdates(updates))
    expect(Y.encodeStateAsUpdate(replica)).toEqual(Y.encodeStateAsUpdate(merged))
  })

  it('folds an empty history into an empty document', () => {
    const replica = new Y.Doc()
    Y.applyUpdate(replica, foldUpdates([]))
    expect(replica.share.size).toBe(0)
  })
})
