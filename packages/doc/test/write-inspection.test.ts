import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { inspectWrite } from '../src/write-inspection.js'

/** A replica of `doc` with the given client id, and a recorder of the updates it makes. */
const replica = (doc: Y.Doc, clientID: number): { doc: Y.Doc; updates: Uint8Array[] } => {
  const copy = new Y.Doc()
  copy.clientID = clientID
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
  const updates: Uint8Array[] = []
  copy.on('update', (update: Uint8Array) => updates.push(update))
  return { doc: copy, updates }
}

const inspect = (doc: Y.Doc, updates: readonly Uint8Array[]) =>
  inspectWrite(doc, Y.decodeUpdate(Y.mergeUpdates(updates as Uint8Array[])))

describe('inspectWrite', () => {
  const base = (): Y.Doc => {
    const doc = new Y.Doc()
    doc.clientID = 1
    doc.getText('body').insert(0, 'hello world')
    const tasks = doc.getMap<Y.Map<unknown>>('tasks')
    const task = new Y.Map<unknown>()
    tasks.set('t1', task)
    task.set('title', 'first')
    doc.getArray('log').push(['a'])
    return doc
  }

  it('finds the client ids and root types of new content, including nested types', () => {
    const room = base()
    const writer = replica(room, 2)
    writer.doc.getText('body').insert(5, ',')
    writer.doc.getMap<Y.Map<unknown>>('tasks').get('t1')!.set('done', true)
    const result = inspect(room, writer.updates)
    expect([...result.newStructClients]).toEqual([2])
    expect(result.changes).toBe(true)
    expect(result.deletes).toBe(false)
    expect([...(result.rootTypes ?? [])].sort()).toEqual(['body', 'tasks'])
  })

  it('resolves the root of a new nested type created in the same update', () => {
    const room = base()
    const writer = replica(room, 2)
    const task = new Y.Map<unknown>()
    writer.doc.getMap('tasks').set('t2', task)
    task.set('title', 'second')
    const notes = new Y.Array<string>()
    task.set('notes', notes)
    notes.push(['x'])
    expect([...(inspect(room, writer.updates).rootTypes ?? [])]).toEqual(['tasks'])
  })

  it('attributes deletions to the root types of what they delete', () => {
    const room = base()
    const writer = replica(room, 2)
    writer.doc.getArray('log').delete(0, 1)
    const result = inspect(room, writer.updates)
    expect(result.newStructClients.size).toBe(0)
    expect(result.deletes).toBe(true)
    expect([...(result.rootTypes ?? [])]).toEqual(['log'])
  })

  it('reports no change for content and deletions the document already has', () => {
    const room = base()
    room.getText('body').delete(0, 1)
    const everything = Y.encodeStateAsUpdate(room)
    const result = inspectWrite(room, Y.decodeUpdate(everything))
    expect(result.changes).toBe(false)
    expect(result.deletes).toBe(false)
    expect(result.newStructClients.size).toBe(0)
  })

  it('cannot resolve content whose parent the document lacks', () => {
    const room = base()
    const ahead = replica(room, 3)
    ahead.doc.getMap('tasks').set('t3', new Y.Map())
    const writer = replica(ahead.doc, 2)
    ;(writer.doc.getMap('tasks').get('t3') as Y.Map<unknown>).set('title', 'x')
    // Only the writer's update: its parent (from client 3) is not in the room.
    const result = inspect(room, writer.updates)
    expect(result.rootTypes).toBeNull()
    expect(result.changes).toBe(true)
  })
})
