import { createClient, type WeftClient } from '@weft/client'
import { openModel } from '@weft/doc'
import { until, untilSameState, writeToken } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { board, startObservedRelay, type ObservedRelay } from './metrics-relay.js'
import { untilScraped } from './metrics-scrape.js'

let observed: ObservedRelay | undefined
const clients: WeftClient[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close()
  await observed?.close()
  observed = undefined
})

describe('conflict, repair and webhook metrics', () => {
  it('count two conflicts, one resolution, one refused edit and its full repair sync, and the webhooks behind', async () => {
    observed = await startObservedRelay()
    const relay = observed.running
    const url = relay.url.replace('http', 'ws')
    const open = (sub: string) => {
      const client = createClient({ url, WebSocket, token: () => writeToken(sub) })
      clients.push(client)
      return client.open('boards/1')
    }
    const ana = open('ana')
    const ben = open('ben')
    await Promise.all([ana.whenSynced(), ben.whenSynced()])
    const anaModel = openModel(ana.doc, board, { author: 'ana' })
    const task = anaModel.collection('tasks').create({ title: 'Ship', status: 'todo' })
    const note = anaModel.collection('notes').create({ text: 'mine' })
    await ana.whenSaved()
    await untilSameState([ana.doc, ben.doc])
    // Twice, both write a field without seeing the other's write: two conflicts on tasks.
    for (const [field, anaValue, benValue] of [
      ['status', 'doing', 'done'],
      ['title', 'Ship it', 'Ship now'],
    ] as const) {
      const benModel = openModel(ben.doc, board, { author: 'ben' })
      benModel.collection('tasks').update(task.id, { [field]: benValue })
      anaModel.collection('tasks').update(task.id, { [field]: anaValue })
      await Promise.all([ana.whenSaved(), ben.whenSaved()])
      await untilSameState([ana.doc, ben.doc])
    }
    expect(anaModel.conflicts()).toHaveLength(2)
    anaModel.resolve({ collection: 'tasks', id: task.id, field: 'status' }, 'done')
    await ana.whenSaved()
    // Ben may not change Ana's note: refused, and his document rebuilt from the relay's state.
    const reset = new Promise((resolve) => ben.once('reset', resolve))
    openModel(ben.doc, board, { author: 'ben' }).collection('notes').update(note.id, { text: 'x' })
    await reset
    await until(ben, 'status', () => ben.status.state === 'synced')

    const samples = await untilScraped(
      relay.url,
      (value) =>
        value('weft_webhook_dead_letters{endpoint="dropped"}') >= 1 &&
        value('weft_webhook_backlog_events{endpoint="dropped"}') === 0,
    )
    const value = (key: string): number => samples.get(key) ?? Number.NaN
    expect(value('weft_conflicts_total{collection="tasks",change="opened"}')).toBe(2)
    expect(value('weft_conflicts_total{collection="tasks",change="resolved"}')).toBe(1)
    // Every collection of the schemas is served from the start, conflicts or not.
    expect(value('weft_conflicts_total{collection="notes",change="opened"}')).toBe(0)
    expect(value('weft_ready')).toBe(1)
    expect(value('weft_refusals_total{code="FORBIDDEN",scope="update"}')).toBe(1)
    expect(value('weft_repair_syncs_total{kind="full"}')).toBe(1)
    expect(value('weft_repair_syncs_total{kind="resync"}')).toBe(0)
    // No document name is a label anywhere.
    expect([...samples.keys()].filter((key) => key.includes('boards/1'))).toEqual([])
    // The stuck endpoint still waits on its first delivery: every durable change is behind
    // (the creations, four conflicting writes, the resolution).
    expect(value('weft_webhook_backlog_events{endpoint="stuck"}')).toBeGreaterThanOrEqual(5)
    expect(value('weft_webhook_dead_letters{endpoint="stuck"}')).toBe(0)
    expect(value('weft_webhook_oldest_dead_letter_age_seconds{endpoint="stuck"}')).toBe(0)
    const age = value('weft_webhook_oldest_dead_letter_age_seconds{endpoint="dropped"}')
    expect(age).toBeGreaterThanOrEqual(0)
    expect(age).toBeLessThan(30)
  })
})
