import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defineSchema, field } from '@weft/doc'
import { ForwardingStore, type AppendEntry, type FeedChange } from '@weft/server'
import { LevelStore } from '@weft/store-level'
import {
  expectConverged,
  startTestRelay,
  testClient,
  untilSameState,
  type TestRelay,
} from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

/** A LevelDB store that mirrors, per document, what its appends have made durable. */
class DurableMirror extends ForwardingStore {
  readonly durable = new Map<string, Y.Doc>()

  override async append(
    name: string,
    entries: readonly AppendEntry[],
    changes?: readonly FeedChange[],
  ): Promise<number> {
    const seq = await this.inner.append(name, entries, changes)
    let mirror = this.durable.get(name)
    if (mirror === undefined) this.durable.set(name, (mirror = new Y.Doc()))
    for (const entry of entries) Y.applyUpdate(mirror, entry.update)
    return seq
  }
}

const board = defineSchema({
  version: 1,
  collections: {
    tasks: { title: field.string(), estimate: field.number().nullable(), notes: field.text() },
  },
})

let relay: TestRelay | null = null
let dir: string | null = null
afterEach(async () => {
  await relay?.close()
  if (dir !== null) await rm(dir, { recursive: true, force: true })
  relay = null
  dir = null
})

const start = async (): Promise<{ relay: TestRelay; store: DurableMirror }> => {
  dir = await mkdtemp(join(tmpdir(), 'weft-service-'))
  const store = new DurableMirror(await LevelStore.open({ path: dir, historyMs: 60_000 }))
  relay = await startTestRelay({ store, schemas: [{ pattern: 'boards/*', schema: board }] })
  return { relay, store }
}

describe('a service editing documents in the relay process', () => {
  it('converges with clients editing at the same time, each change durable before it resolves', async () => {
    const { relay, store } = await start()
    const alice = testClient(relay).open('notes')
    const bob = testClient(relay).open('notes')
    await Promise.all([alice.whenSynced(), bob.whenSynced()])
    const service = await relay.relay.documents.open('notes', { service: 'indexer' })
    for (let round = 0; round < 20; round++) {
      alice.doc.getText('body').insert(0, `a${round} `)
      bob.doc.getArray<number>('seen').push([round])
      const mark = `s${round}`
      await service.transact((doc) => doc.getMap<string>('index').set(mark, `round ${round}`))
      // Resolved: the service's change is in what the store's appends made durable.
      expect(store.durable.get('notes')?.getMap('index').get(mark)).toBe(`round ${round}`)
    }
    await Promise.all([alice.whenSaved(), bob.whenSaved()])
    const replicas = [alice.doc, bob.doc, service.doc]
    await untilSameState(replicas)
    // toJSON lists the root types a replica has read: read the same ones everywhere.
    for (const doc of replicas) {
      doc.getText('body')
      doc.getArray('seen')
      doc.getMap('index')
    }
    expectConverged(replicas)
    expect(service.doc.getMap('index').size).toBe(20)
    expect(service.doc.getText('body').toString()).toContain('a19 ')
    expect(alice.doc.getMap('index').get('s7')).toBe('round 7')

    // Attributed in the audit trail and in the change feed.
    const { entries } = await relay.relay.admin.history('notes')
    expect(entries.filter((entry) => entry.author === 'service:indexer')).toHaveLength(20)
    const feed = await relay.relay.feed.read({ limit: 1000 })
    const authors = new Set(feed.entries.map((entry) => entry.author))
    expect(authors).toContain('service:indexer')
    expect(authors).toContain('anonymous')
    await service.close()
  })

  it('writes records through the schema, and clients receive them as edits', async () => {
    const { relay } = await start()
    const client = testClient(relay).open('boards/7')
    await client.whenSynced()
    const service = await relay.relay.documents.open('boards/7', {
      service: 'estimator',
      correlationId: 'job-1',
    })
    const created = await service.change((model) =>
      model.collection('tasks').create({ title: 'Ship', estimate: null, notes: 'draft' }),
    )
    await service.change((model) => model.collection('tasks').update(created.id, { estimate: 3 }))
    await untilSameState([client.doc, service.doc])
    expect(client.doc.getMap('tasks').has(created.id)).toBe(true)
    const feed = await relay.relay.feed.read()
    expect(feed.entries.map((entry) => [entry.author, entry.correlationId])).toEqual([
      ['service:estimator', 'job-1'],
      ['service:estimator', 'job-1'],
    ])
    expect(feed.entries[1]?.events).toEqual([
      {
        type: 'record.updated',
        collection: 'tasks',
        id: created.id,
        changes: [{ field: 'estimate', old: null, new: 3 }],
      },
    ])
    await service.close()
  })

  it('sends nothing when the edit throws, and refuses writes outside a scope', async () => {
    const { relay } = await start()
    const service = await relay.relay.documents.open('notes', { service: 'careful' })
    await service.transact((doc) => doc.getText('body').insert(0, 'kept'))
    await expect(
      service.transact((doc) => {
        doc.getText('body').insert(0, 'half-done ')
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(service.doc.getText('body').toString()).toBe('kept')
    await expect(service.change(() => null)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await service.close()
    await expect(service.transact(() => null)).rejects.toMatchObject({ code: 'CLOSED' })

    const limited = await relay.relay.documents.open('notes', {
      author: 'user-9',
      access: { read: true, write: true, types: new Set(['comments']) },
    })
    await expect(
      limited.transact((doc) => doc.getText('body').insert(0, 'not mine')),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' })
    expect(limited.doc.getText('body').toString()).toBe('kept')
    await limited.transact((doc) => doc.getArray('comments').push(['fine']))
    await limited.close()
    const reader = testClient(relay).open('notes')
    await reader.whenSynced()
    expect(reader.doc.getText('body').toString()).toBe('kept')
    expect(reader.doc.getArray('comments').toArray()).toEqual(['fine'])
  })

  it('validates what it is given', async () => {
    const { relay } = await start()
    await expect(relay.relay.documents.open('', { service: 'x' })).rejects.toMatchObject({
      code: 'BAD_DOC_NAME',
    })
    await expect(relay.relay.documents.open('doc', {})).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    })
    await expect(
      relay.relay.documents.open('doc', { service: 'a', author: 'b' }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    const service = await relay.relay.documents.open('doc', { service: 'a' })
    await expect(service.transact('nope' as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    })
    await service.close()
  })
})
