import { RawSocket, startTestRelay, testClient, until, type TestRelay } from '@weft/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

let relay: TestRelay

afterEach(async () => {
  await relay.close()
})

const textOf = (update: Uint8Array): string => {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  return doc.getText('t').toString()
}

describe('relay.admin with clients connected', () => {
  it('lists and inspects, exports and imports, compacts, and deletes a document its clients are told about', async () => {
    relay = await startTestRelay()
    const writer = testClient(relay).open('notes')
    await writer.whenSynced()
    writer.doc.getText('t').insert(0, 'hello')
    await writer.whenSaved()

    const [listed] = await relay.relay.admin.list()
    expect(listed).toMatchObject({ name: 'notes', loaded: true, peers: 1, logRecords: 1 })
    expect(listed?.lastWriteAtMs).toBeGreaterThan(Date.now() - 60_000)
    const details = await relay.relay.admin.inspect('notes')
    expect(details.stateVector).toEqual({ [String(writer.doc.clientID)]: 5 })
    expect(details).toMatchObject({ peers: 1, pending: false })
    expect(details.stateBytes).toBeGreaterThan(5)

    // Export, then import into a new document: a fresh client reads a copy.
    const exported = await relay.relay.admin.export('notes')
    expect(textOf(exported)).toBe('hello')
    await relay.relay.admin.import('copy', exported, 'ops')
    const reader = testClient(relay).open('copy')
    await reader.whenSynced()
    expect(reader.doc.getText('t').toString()).toBe('hello')

    // An import into a live document reaches its clients as an ordinary edit.
    const patch = new Y.Doc()
    Y.applyUpdate(patch, exported)
    const before = Y.encodeStateVector(patch)
    patch.getText('t').insert(5, ', world')
    await relay.relay.admin.import('notes', Y.encodeStateAsUpdate(patch, before), 'ops')
    await until(writer.doc, 'update', () => writer.doc.getText('t').toString() === 'hello, world')

    // Compaction folds the log into the snapshot.
    expect((await relay.relay.admin.compact('notes')).folded).toBeGreaterThanOrEqual(2)
    const stored = await relay.store.load('notes')
    expect(stored.snapshot).not.toBeNull()
    expect(stored.updates).toEqual([])

    // Deletion: the Weft client gets DOC_DELETED, a y-websocket client is closed with 4412.
    const yws = await RawSocket.open(`${relay.url}/notes`, false)
    await relay.relay.admin.delete('notes', 'ops')
    await until(writer, 'status', () => writer.status.state === 'error')
    expect(writer.status).toMatchObject({ state: 'error', code: 'DOC_DELETED' })
    expect((await yws.closed).code).toBe(4412)
    expect((await relay.store.load('notes')).headSeq).toBe(0)
    expect((await relay.relay.admin.list()).map((doc) => doc.name)).toEqual(['copy'])
  })

  it('refuses bad input with a code', async () => {
    relay = await startTestRelay()
    await expect(relay.relay.admin.import('doc', new Uint8Array([1, 2, 3]))).rejects.toMatchObject({
      code: 'BAD_UPDATE',
    })
    await expect(relay.relay.admin.import('doc', new Uint8Array())).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    })
    await expect(relay.relay.admin.inspect('')).rejects.toMatchObject({ code: 'BAD_DOC_NAME' })
    await expect(relay.relay.admin.delete('a\u0000b')).rejects.toMatchObject({
      code: 'BAD_DOC_NAME',
    })
  })
})
