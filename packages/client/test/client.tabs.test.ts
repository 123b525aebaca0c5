import type { DocHandle, TabLocks, WeftClient } from '@weft/client'
import { jwtAuth } from '@weft/server'
import {
  nextEvent,
  scopedToken,
  startTestRelay,
  tabLocks,
  TEST_SECRET,
  testClient,
  until,
  type TestClientOptions,
  type TestRelay,
} from '@weft/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'

// Tabs of one origin, simulated in one process: each client is a tab; they share Web Locks
// (simulated) and talk over Node's BroadcastChannel. Chromium runs the real thing
// (apps/demo/test/tabs.browser.test.ts).
let relay: TestRelay
let locks: TabLocks
let group: string

beforeEach(async () => {
  relay = await startTestRelay()
  locks = tabLocks()
  group = `tabs-${Math.random()}`
})

afterEach(async () => {
  await relay.close()
})

/** A tab of this test's origin: a client sharing the test's locks and group. */
const tab = (options: TestClientOptions = {}): WeftClient =>
  testClient(relay, { tabs: { locks, BroadcastChannel, group }, ...options })

const text = (handle: DocHandle): string => handle.doc.getText('t').toString()

/** The document as the relay has it on disk. */
const stored = async (name: string): Promise<string> => {
  const doc = new Y.Doc()
  const update = await relay.relay.documents.update(name)
  Y.applyUpdate(doc, update)
  return doc.getText('t').toString()
}

describe('tabs sharing one connection', () => {
  it('uses one socket for three tabs; every tab sees every edit and gets saved from the relay', async () => {
    const [a, b, c] = [tab(), tab(), tab()]
    const handles = [a, b, c].map((client) => client.open('shared'))
    await Promise.all(handles.map((handle) => handle.whenSynced()))
    expect(relay.relay.connectionCount).toBe(1)

    handles.forEach((handle, index) => handle.doc.getText('t').insert(0, `${'abc'[index]}`))
    await Promise.all(handles.map((handle) => handle.whenSaved()))
    for (const handle of handles) await until(handle.doc, 'update', () => text(handle).length === 3)
    const merged = text(handles[0] as DocHandle)
    for (const handle of handles) expect(text(handle)).toBe(merged)
    expect(await stored('shared')).toBe(merged)
    for (const handle of handles) {
      expect(handle.pending).toBe(0)
      expect(handle.status.state).toBe('synced')
    }
    expect(relay.relay.connectionCount).toBe(1)
  })

  it('a tab offline keeps its edits pending, and they are saved once it is back', async () => {
    const [a, b] = [tab(), tab()]
    const [ha, hb] = [a.open('offline-tab'), b.open('offline-tab')]
    await Promise.all([ha.whenSynced(), hb.whenSynced()])
    b.disconnect()
    hb.doc.getText('t').insert(0, 'from b, offline. ')
    ha.doc.getText('t').insert(0, 'from a. ')
    await ha.whenSaved()
    expect(hb.pending).toBe(1)
    expect(hb.status.state).toBe('offline')
    expect(text(ha)).toBe('from a. ')
    b.connect()
    await hb.whenSaved()
    await until(ha.doc, 'update', () => text(ha) === text(hb))
    expect(text(ha)).toContain('from b, offline.')
    expect(await stored('offline-tab')).toBe(text(ha))
  })

  it('when the leading tab closes, another leads and sends what was unsaved, once', async () => {
    const [a, b] = [tab(), tab()]
    const [ha, hb] = [a.open('handover'), b.open('handover')]
    await Promise.all([ha.whenSynced(), hb.whenSynced()])
    // The relay stops acknowledging: nothing b sends can be saved before the leader goes.
    for (let index = 0; index < 20; index += 1) hb.doc.getText('t').insert(0, `${index % 10}`)
    await a.close()
    await hb.whenSaved()
    expect(hb.pending).toBe(0)
    expect(await stored('handover')).toBe(text(hb))
    expect(text(hb)).toHaveLength(20)
    expect(relay.relay.connectionCount).toBe(1)
  })

  it('shares presence between tabs and with the relay', async () => {
    const [a, b] = [tab(), tab()]
    const [ha, hb] = [a.open('presence'), b.open('presence')]
    await Promise.all([ha.whenSynced(), hb.whenSynced()])
    ha.awareness.setLocalStateField('user', { name: 'tab a' })
    await until(
      hb.awareness,
      'change',
      () => hb.awareness.getStates().get(ha.awareness.clientID)?.['user']?.name === 'tab a',
    )
    const outside = testClient(relay, { tabs: false })
    const ho = outside.open('presence')
    await ho.whenSynced()
    await until(ho.awareness, 'change', () => ho.awareness.getStates().has(ha.awareness.clientID))
    ho.awareness.setLocalStateField('user', { name: 'outside' })
    await until(hb.awareness, 'change', () => hb.awareness.getStates().has(ho.awareness.clientID))
  })

  it('refuses a store already used by another open client', async () => {
    const { MemoryLocalStore } = await import('@weft/client')
    const store = new MemoryLocalStore()
    testClient(relay, { store, tabs: false })
    expect(() => testClient(relay, { store, tabs: false })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
  })
})

describe('tabs sharing one connection, with scoped tokens', () => {
  it('a refused edit comes back to the tab that made it, and never reaches the other tabs', async () => {
    await relay.close()
    relay = await startTestRelay({ auth: jwtAuth({ secret: TEST_SECRET }) })
    const token = await scopedToken('ann', [{ pattern: '**', access: 'write', types: ['allowed'] }])
    const [a, b] = [tab({ token }), tab({ token })]
    const [ha, hb] = [a.open('scoped'), b.open('scoped')]
    await Promise.all([ha.whenSynced(), hb.whenSynced()])
    hb.doc.getMap('allowed').set('before', 1)
    await hb.whenSaved()
    const rejected = nextEvent(hb, 'rejected')
    const reset = nextEvent(hb, 'reset')
    hb.doc.getMap('forbidden').set('x', 1)
    const saving = hb.whenSaved()
    await expect(saving).rejects.toMatchObject({ code: 'FORBIDDEN' })
    const [edit] = (await rejected) as [{ code: string }]
    expect(edit.code).toBe('FORBIDDEN')
    expect(hb.rejected).toHaveLength(1)
    await reset
    expect(hb.doc.getMap('forbidden').size).toBe(0)
    hb.doc.getMap('allowed').set('after', 2)
    await hb.whenSaved()
    await until(ha.doc, 'update', () => ha.doc.getMap('allowed').get('after') === 2)
    expect(ha.doc.getMap('allowed').get('before')).toBe(1)
    expect(ha.doc.getMap('forbidden').size).toBe(0)
    expect(ha.pending).toBe(0)
  })
})

describe('tabs sharing one connection while the relay is unreachable', () => {
  it('tabs offline together see each other’s edits, and each sends its own once back', async () => {
    const [a, b] = [tab(), tab()]
    const [ha, hb] = [a.open('together'), b.open('together')]
    await Promise.all([ha.whenSynced(), hb.whenSynced()])
    const { dataDir, port } = relay
    await relay.close({ keepData: true })
    await until(hb, 'status', () => hb.status.state === 'connecting')
    await until(ha, 'status', () => ha.status.state === 'connecting')
    ha.doc.getText('t').insert(0, 'from a, relay down. ')
    await until(hb.doc, 'update', () => text(hb).includes('from a, relay down.'))
    hb.doc.getText('t').insert(0, 'from b, relay down. ')
    await until(ha.doc, 'update', () => text(ha).includes('from b, relay down.'))
    // Seen, not saved: each tab still counts its own edit.
    expect([ha.pending, hb.pending]).toEqual([1, 1])
    relay = await startTestRelay({ dataDir, port })
    await Promise.all([ha.whenSaved(), hb.whenSaved()])
    expect(text(ha)).toBe(text(hb))
    expect(await stored('together')).toBe(text(ha))
  })

  it('a tab its app took offline neither sends nor receives edits between tabs', async () => {
    const [a, b] = [tab(), tab()]
    const [ha, hb] = [a.open('apart'), b.open('apart')]
    await Promise.all([ha.whenSynced(), hb.whenSynced()])
    b.disconnect()
    hb.doc.getText('t').insert(0, 'b alone. ')
    ha.doc.getText('t').insert(0, 'a. ')
    await ha.whenSaved()
    await hb.whenStored()
    expect(text(ha)).toBe('a. ')
    expect(text(hb)).toBe('b alone. ')
  })
})
