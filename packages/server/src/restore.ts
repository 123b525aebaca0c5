/**
 * The forward change that makes a document read as another state of it (a restore): every root
 * type is rewritten to the target's content. Clients apply it like any edit; concurrent edits
 * merge with it as Yjs merges (a restore is a new edit, not a rewind of history).
 */
import { WeftError } from '@weft/protocol'
import * as Y from 'yjs'
import { kindOf } from './root-kind.js'

const unsupported = (): WeftError =>
  new WeftError('INVALID_ARGUMENT', 'restore does not support XML types (y-prosemirror) yet')

/** A fresh, unintegrated copy of a value read from another document. */
const copy = (value: unknown): unknown => {
  if (value instanceof Y.XmlFragment || value instanceof Y.XmlText) throw unsupported()
  if (value instanceof Y.Text) {
    const text = new Y.Text()
    text.applyDelta(value.toDelta())
    return text
  }
  if (value instanceof Y.Array) return Y.Array.from(value.toArray().map(copy) as never[])
  if (value instanceof Y.Map) {
    const map = new Y.Map<unknown>()
    for (const [key, inner] of value.entries()) map.set(key, copy(inner))
    return map
  }
  return value
}

const sameValue = (a: unknown, b: unknown): boolean =>
  !(a instanceof Y.AbstractType) &&
  !(b instanceof Y.AbstractType) &&
  JSON.stringify(a) === JSON.stringify(b)

/** The Yjs update that, applied to `current`, makes its content equal to `target`'s. */
export const changeToRestore = (current: Uint8Array, target: Uint8Array): Uint8Array => {
  const working = new Y.Doc()
  Y.applyUpdate(working, current)
  const goal = new Y.Doc()
  Y.applyUpdate(goal, target)
  const before = Y.encodeStateVector(working)
  const names = new Set([...working.share.keys(), ...goal.share.keys()])
  working.transact(() => {
    for (const name of names) {
      const kind = kindOf(goal.share.get(name)) ?? kindOf(working.share.get(name))
      if (kind === 'xml') throw unsupported()
      if (kind === 'text') {
        const text = working.getText(name)
        text.delete(0, text.length)
        text.applyDelta(goal.getText(name).toDelta())
      } else if (kind === 'array') {
        const array = working.getArray<unknown>(name)
        array.delete(0, array.length)
        array.insert(0, goal.getArray<unknown>(name).toArray().map(copy))
      } else if (kind === 'map') {
        const map = working.getMap<unknown>(name)
        const wanted = goal.getMap<unknown>(name)
        for (const key of [...map.keys()]) if (!wanted.has(key)) map.delete(key)
        for (const [key, value] of wanted.entries()) {
          if (!sameValue(map.get(key), value)) map.set(key, copy(value))
        }
      }
    }
  })
  return Y.encodeStateAsUpdate(working, before)
}
