import { defineSchema, field, openModel } from '@weft/doc'
import type { ConflictChange } from '@weft/server'
import { startTestRelay, testClient, untilSameState, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'

const board = defineSchema({
  version: 1,
  collections: {
    tasks: { title: field.string(), status: field.enum(['todo', 'doing', 'done']) },
  },
})

let relay: TestRelay | null = null
afterEach(async () => {
  await relay?.close()
  relay = null
})

describe('RelayMetrics.conflict', () => {
  it('reports each conflict opened and resolved with its collection, once', async () => {
    const reported: Array<[ConflictChange, string]> = []
    relay = await startTestRelay({
      schemas: [{ pattern: 'boards/*', schema: board }],
      metrics: { conflict: (change, collection) => reported.push([change, collection]) },
    })
    const { url } = relay
    const ana = testClient({ url }).open('boards/1')
    const ben = testClient({ url }).open('boards/1')
    await Promise.all([ana.whenSynced(), ben.whenSynced()])
    const anaModel = openModel(ana.doc, board, { author: 'ana' })
    const task = anaModel.collection('tasks').create({ title: 'Ship', status: 'todo' })
    await ana.whenSaved()
    await untilSameState([ana.doc, ben.doc])
    expect(reported).toEqual([])
    // Both write the status without seeing the other's write.
    openModel(ben.doc, board, { author: 'ben' }).collection('tasks').update(task.id, {
      status: 'done',
    })
    anaModel.collection('tasks').update(task.id, { status: 'doing' })
    await Promise.all([ana.whenSaved(), ben.whenSaved()])
    await untilSameState([ana.doc, ben.doc])
    expect(reported).toEqual([['opened', 'tasks']])
    anaModel.resolve({ collection: 'tasks', id: task.id, field: 'status' }, 'done')
    await ana.whenSaved()
    await untilSameState([ana.doc, ben.doc])
    expect(reported).toEqual([
      ['opened', 'tasks'],
      ['resolved', 'tasks'],
    ])
  })
})
