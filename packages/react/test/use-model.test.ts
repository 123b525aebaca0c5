// @vitest-environment happy-dom
import { cleanup } from '@testing-library/react'
import { startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { useModel, useRecords } from '../src/index.js'
import { boardSchema } from './board-schema.js'
import { renderLog } from './render-log.js'

let relay: TestRelay

beforeEach(async () => {
  relay = await startTestRelay({ schemas: [{ pattern: '**', schema: boardSchema }] })
})

afterEach(async () => {
  cleanup()
  await relay.close()
})

describe('useModel', () => {
  it('opens the model again on the rebuilt document after the relay refuses an edit', async () => {
    const handle = testClient(relay).open('board')
    await handle.whenSynced()
    const log = renderLog(() => {
      const model = useModel(handle, boardSchema, { author: 'ana' })
      return { model, tasks: useRecords(model, 'tasks') }
    })
    const first = log.latest().model
    first.collection('tasks').create({ title: 'Kept', status: 'todo' })
    await handle.whenSaved()
    log.rerender()
    expect(log.latest().model).toBe(first)

    // A root type the schema does not have: the relay refuses it and the handle rebuilds its doc.
    handle.doc.getMap('not-a-collection').set('x', 1)
    const rebuilt = await log.until(({ model }) => model !== first, 'a model on the new document')
    expect(handle.rejected.map(({ code }) => code)).toEqual(['SCHEMA_VIOLATION'])
    expect(rebuilt.model.doc).toBe(handle.doc)
    expect(rebuilt.tasks.map(({ title }) => title)).toEqual(['Kept'])

    rebuilt.model.collection('tasks').create({ title: 'After', status: 'doing' })
    await log.until(({ tasks }) => tasks.length === 2, 'a task written through the new model')
    await handle.whenSaved()
  })

  it('keeps one model across renders given an inline newId, and creates with it', () => {
    const handle = testClient(relay, { autoConnect: false }).open('ids')
    let next = 0
    const log = renderLog(() =>
      useModel(handle, boardSchema, { author: 'ana', newId: () => `task-${++next}` }),
    )
    log.rerender()
    log.rerender()
    expect(new Set(log.values).size).toBe(1)
    expect(log.latest().collection('tasks').create({ title: 'A', status: 'todo' }).id).toBe(
      'task-1',
    )
  })

  it('needs an author', () => {
    const handle = testClient(relay, { autoConnect: false }).open('anonymous')
    expect(() => renderLog(() => useModel(handle, boardSchema, { author: '' }))).toThrow(
      /INVALID_ARGUMENT: options.author must be a non-empty string/,
    )
  })
})
