// @vitest-environment happy-dom
import { cleanup, render } from '@testing-library/react'
import type { DocHandle } from '@weft/client'
import { openModel } from '@weft/doc'
import { startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { createElement, Fragment, useLayoutEffect } from 'react'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { useModel, useRecord, useRecords } from '../src/index.js'
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

/** Two synced devices on one board: this one (rendered) and another one writing. */
const twoDevices = async (
  name: string,
): Promise<{
  handle: DocHandle
  other: ReturnType<typeof openModel<typeof boardSchema.collections>>
}> => {
  const handle = testClient(relay).open(name)
  const otherHandle = testClient(relay).open(name)
  await Promise.all([handle.whenSynced(), otherHandle.whenSynced()])
  return { handle, other: openModel(otherHandle.doc, boardSchema, { author: 'ben' }) }
}

describe('useRecord', () => {
  it('re-renders a record when it changes on another device, and not when another record does', async () => {
    const { handle, other } = await twoDevices('board-a')
    const mine = openModel(handle.doc, boardSchema, { author: 'ana' })
    const first = mine.collection('tasks').create({ title: 'First', status: 'todo' })
    const second = mine.collection('tasks').create({ title: 'Second', status: 'todo' })
    await handle.whenSaved()

    const renders = { [first.id]: 0, [second.id]: 0 }
    const seen: Record<string, string | undefined> = {}
    const waiters = new Set<() => void>()
    const Task = ({ id }: { id: string }): null => {
      const model = useModel(handle, boardSchema, { author: 'ana' })
      const task = useRecord(model, 'tasks', id)
      renders[id] = (renders[id] ?? 0) + 1
      useLayoutEffect(() => {
        seen[id] = task?.status
        for (const waiter of [...waiters]) waiter()
      })
      return null
    }
    const untilSeen = (id: string, status: string): Promise<void> =>
      new Promise((resolve) => {
        const check = (): void => {
          if (seen[id] !== status) return
          waiters.delete(check)
          resolve()
        }
        waiters.add(check)
        check()
      })
    render(
      createElement(
        Fragment,
        null,
        createElement(Task, { id: first.id }),
        createElement(Task, { id: second.id }),
      ),
    )
    expect(renders).toEqual({ [first.id]: 1, [second.id]: 1 })

    other.collection('tasks').update(second.id, { status: 'doing' })
    await untilSeen(second.id, 'doing')
    other.collection('tasks').get(second.id)?.notes.insert(0, 'typed elsewhere')
    other.collection('tasks').update(second.id, { status: 'done' })
    await untilSeen(second.id, 'done')
    expect(renders[first.id]).toBe(1)
    expect(renders[second.id]).toBeGreaterThanOrEqual(3)

    other.collection('tasks').update(first.id, { title: 'First, renamed' })
    other.collection('tasks').update(first.id, { status: 'done' })
    await untilSeen(first.id, 'done')
    expect(renders[first.id]).toBeGreaterThanOrEqual(2)
  })

  it('renders null for a record that does not exist yet, then the record once it arrives', async () => {
    const { handle, other } = await twoDevices('board-b')
    const model = openModel(handle.doc, boardSchema, { author: 'ana' })
    const log = renderLog(() => useRecord(model, 'tasks', 'task-1'))
    expect(log.latest()).toBeNull()
    other.collection('tasks').create({ title: 'Arrives', status: 'todo' }, { id: 'task-1' })
    const task = await log.until((record) => record !== null, 'the record')
    expect(task).toMatchObject({ id: 'task-1', title: 'Arrives', createdBy: 'ben' })
    other.collection('tasks').delete('task-1')
    await log.until((record) => record === null, 'the record deleted')
  })

  it('refuses a collection the schema does not have, and a missing id', () => {
    const model = openModel(
      testClient(relay, { autoConnect: false }).open('bad').doc,
      boardSchema,
      {
        author: 'ana',
      },
    )
    expect(() => renderLog(() => useRecord(model, 'notes' as never, 'x'))).toThrow(
      /INVALID_ARGUMENT: the schema has no collection "notes"/,
    )
    expect(() => renderLog(() => useRecord(model, 'tasks', undefined as never))).toThrow(
      /INVALID_ARGUMENT: useRecord needs a record id/,
    )
    expect(() => renderLog(() => useRecords({} as never, 'tasks'))).toThrow(
      /INVALID_ARGUMENT: useRecords needs a model/,
    )
  })
})

describe('useRecords', () => {
  it('re-renders the list when the collection changes, not when another collection does', async () => {
    const { handle, other } = await twoDevices('board-c')
    const model = openModel(handle.doc, boardSchema, { author: 'ana' })
    const log = renderLog(() => useRecords(model, 'tasks'))
    expect(log.latest()).toEqual([])
    model.collection('tasks').create({ title: 'Mine', status: 'todo' })
    await log.until((tasks) => tasks.length === 1, 'a local task')
    const rendersBefore = log.values.length
    const oneTask = log.latest()
    other.collection('people').create({ name: 'Ben' })
    other.collection('tasks').create({ title: 'Theirs', status: 'todo' })
    const both = await log.until((tasks) => tasks.length === 2, 'a task from another device')
    expect(both.map((task) => task.title)).toEqual(['Mine', 'Theirs'])
    // One render for the new task; the person (another collection) rendered nothing.
    expect(log.values.length).toBe(rendersBefore + 1)
    expect(log.values).toContain(oneTask)
    log.rerender()
    expect(log.latest()).toBe(both)
  })
})
