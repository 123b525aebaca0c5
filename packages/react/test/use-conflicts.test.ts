// @vitest-environment happy-dom
import { cleanup } from '@testing-library/react'
import { openModel } from '@weft/doc'
import { startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { useConflicts, useModel } from '../src/index.js'
import { boardSchema } from './board-schema.js'
import { renderLog } from './render-log.js'

let relay: TestRelay

beforeEach(async () => {
  relay = await startTestRelay()
})

afterEach(async () => {
  cleanup()
  await relay.close()
})

describe('useConflicts', () => {
  it('renders a conflict when concurrent writes meet, and its end once resolved', async () => {
    const [laptop, phone] = [testClient(relay), testClient(relay)]
    const mine = laptop.open('board')
    const theirs = phone.open('board')
    await Promise.all([mine.whenSynced(), theirs.whenSynced()])
    const ben = openModel(theirs.doc, boardSchema, { author: 'ben' })
    const task = ben.collection('tasks').create({ title: 'Ship', status: 'todo' })
    await theirs.whenSaved()

    const log = renderLog(() => {
      const model = useModel(mine, boardSchema, { author: 'ana' })
      return {
        model,
        conflicts: useConflicts(model),
        ofTitle: useConflicts(model, { field: 'title' }),
      }
    })
    await log.until(({ model }) => model.collection('tasks').get(task.id) !== null, 'the task')
    const rendersBefore = log.values.length
    expect(log.latest().conflicts).toEqual([])

    // Offline, both devices change the status; typing in notes opens no conflict.
    laptop.disconnect()
    phone.disconnect()
    log.latest().model.collection('tasks').update(task.id, { status: 'doing' })
    ben.collection('tasks').update(task.id, { status: 'done' })
    log.latest().model.collection('tasks').get(task.id)?.notes.insert(0, 'checklist')
    laptop.connect()
    phone.connect()

    const { conflicts, ofTitle } = await log.until(
      ({ conflicts }) => conflicts.length === 1,
      'the conflict',
    )
    expect(conflicts[0]).toMatchObject({ collection: 'tasks', id: task.id, field: 'status' })
    expect(conflicts[0]?.values.map(({ value }) => value).sort()).toEqual(['doing', 'done'])
    expect(ofTitle).toEqual([])
    // One render: the conflict's. The local status and notes edits changed no conflict.
    expect(log.values.length).toBe(rendersBefore + 1)

    // Resolved on the other device: the conflict goes here too.
    await Promise.all([mine.whenSynced(), theirs.whenSynced()])
    ben.resolve({ collection: 'tasks', id: task.id, field: 'status' }, 'done')
    const resolved = await log.until(({ conflicts }) => conflicts.length === 0, 'the resolution')
    expect(resolved.model.collection('tasks').get(task.id)?.status).toBe('done')
  })

  it('keeps the same list while edits leave the conflicts as they are', async () => {
    const handle = testClient(relay, { autoConnect: false }).open('quiet')
    const model = openModel(handle.doc, boardSchema, { author: 'ana' })
    const log = renderLog(() => useConflicts(model))
    const task = model.collection('tasks').create({ title: 'A', status: 'todo' })
    model.collection('tasks').update(task.id, { title: 'B' })
    log.rerender()
    expect(log.values).toHaveLength(2)
    expect(log.values[1]).toBe(log.values[0])
    expect(() => renderLog(() => useConflicts(model, null as never))).toThrow(/INVALID_ARGUMENT/)
  })
})
