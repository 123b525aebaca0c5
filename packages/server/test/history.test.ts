import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defineSchema, field, openModel } from '@weft/doc'
import { jwtAuth } from '@weft/server'
import { LevelStore } from '@weft/store-level'
import { startTestRelay, testClient, until, type TestRelay, TEST_SECRET } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

let relay: TestRelay | undefined
let dir = ''

afterEach(async () => {
  await relay?.close()
  relay = undefined
  rmSync(dir, { recursive: true, force: true })
})

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5))

describe('history, audit and restore', () => {
  it('lists who changed a document, reads it at a time, and restores it with clients connected', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-history-'))
    const store = await LevelStore.open({ path: dir, historyMs: 3_600_000 })
    relay = await startTestRelay({ store, auth: jwtAuth({ secret: TEST_SECRET }) })
    // The relay verifies tokens: each client sends a write token for its user.
    const open = (user: string) =>
      testClient(relay!, { user, correlationId: `${user}-device` }).open('plan')
    const alice = open('alice')
    const bob = open('bob')
    await Promise.all([alice.whenSynced(), bob.whenSynced()])

    alice.doc.getText('t').insert(0, 'first draft')
    alice.doc.getMap('meta').set('status', 'draft')
    await alice.whenSaved()
    await tick()
    const draftAt = Date.now()
    await tick()
    await until(bob.doc, 'update', () => bob.doc.getText('t').toString() === 'first draft')
    bob.doc.getText('t').delete(0, 5)
    bob.doc.getText('t').insert(0, 'final')
    bob.doc.getMap('meta').set('status', 'final')
    bob.doc.getMap('meta').set('reviewer', 'bob')
    await bob.whenSaved()
    // Compaction folds the log; the history keeps the folded records.
    await relay.relay.admin.compact('plan')

    const { entries, since } = await relay.relay.admin.history('plan')
    expect(since).toBeNull()
    const authors = entries.map((entry) => entry.author)
    expect(authors).toContain('alice')
    expect(authors).toContain('bob')
    expect(authors.indexOf('alice')).toBeLessThan(authors.indexOf('bob'))
    for (const entry of entries) expect(entry.bytes).toBeGreaterThan(0)
    expect(entries.find((entry) => entry.author === 'bob')?.correlationId).toBe('bob-device')

    const then = new Y.Doc()
    Y.applyUpdate(then, await relay.relay.admin.stateAt('plan', draftAt))
    expect(then.getText('t').toString()).toBe('first draft')
    expect(then.getMap('meta').toJSON()).toEqual({ status: 'draft' })

    // Restore: both connected clients converge on the old content without reloading.
    await relay.relay.admin.restore('plan', draftAt, 'ops')
    for (const handle of [alice, bob]) {
      await until(handle.doc, 'update', () => handle.doc.getText('t').toString() === 'first draft')
      expect(handle.doc.getMap('meta').toJSON()).toEqual({ status: 'draft' })
    }
    const after = await relay.relay.admin.history('plan')
    expect(after.entries.at(-1)?.author).toBe('admin:ops')
    // The restore is a forward change: the state before it can still be read.
    const beforeRestore = new Y.Doc()
    Y.applyUpdate(
      beforeRestore,
      await relay.relay.admin.stateAt('plan', (after.entries.at(-1)?.receivedAtMs ?? 0) - 1),
    )
    expect(beforeRestore.getText('t').toString()).toBe('final draft')
  })

  it('shows a document-model conflict resolution in the audit trail', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-history-'))
    relay = await startTestRelay({
      store: await LevelStore.open({ path: dir, historyMs: 3_600_000 }),
      auth: jwtAuth({ secret: TEST_SECRET }),
    })
    const schema = defineSchema({
      version: 1,
      collections: { tasks: { status: field.enum(['todo', 'doing', 'done']) } },
    })
    const open = (user: string) => {
      const handle = testClient(relay!, { user }).open('board')
      return { handle, model: openModel(handle.doc, schema, { author: user, newId: () => 'r1' }) }
    }
    const alice = open('alice')
    const bob = open('bob')
    await Promise.all([alice.handle.whenSynced(), bob.handle.whenSynced()])
    alice.model.collection('tasks').create({ status: 'todo' })
    await alice.handle.whenSaved()
    await until(bob.handle.doc, 'update', () => bob.model.collection('tasks').get('r1') !== null)
    // Concurrent writes while both are paused: a conflict once they meet.
    alice.handle.pause()
    bob.handle.pause()
    alice.model.collection('tasks').update('r1', { status: 'doing' })
    bob.model.collection('tasks').update('r1', { status: 'done' })
    alice.handle.resume()
    bob.handle.resume()
    await Promise.all([alice.handle.whenSaved(), bob.handle.whenSaved()])
    await until(alice.handle.doc, 'update', () => alice.model.conflicts().length === 1)
    const [conflict] = alice.model.conflicts()
    alice.model.resolve(conflict!, 'done')
    await alice.handle.whenSaved()

    const { entries } = await relay.relay.admin.history('board')
    const resolutions = entries.filter((entry) => entry.resolved.length > 0)
    expect(resolutions).toHaveLength(1)
    expect(resolutions[0]).toMatchObject({ author: 'alice', resolved: ['tasks/r1.status'] })
    // The writes that made the conflict resolved nothing.
    expect(entries.at(-1)).toBe(resolutions[0])
  })

  it('refuses a time before the history it keeps, and bad times', async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-history-'))
    relay = await startTestRelay({ store: await LevelStore.open({ path: dir }) })
    const handle = testClient(relay).open('doc')
    handle.doc.getText('t').insert(0, 'x')
    await handle.whenSaved()
    await relay.relay.admin.compact('doc')
    handle.doc.getText('t').insert(1, 'y')
    await handle.whenSaved()
    // No history window: only the log since the last compaction is kept.
    await expect(relay.relay.admin.stateAt('doc', 0)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    })
    await expect(relay.relay.admin.stateAt('doc', Number.NaN)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    })
  })
})
