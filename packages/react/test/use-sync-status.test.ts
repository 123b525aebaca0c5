// @vitest-environment happy-dom
import { cleanup } from '@testing-library/react'
import { startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { useSyncStatus } from '../src/index.js'
import { renderLog } from './render-log.js'

let relay: TestRelay

beforeEach(async () => {
  relay = await startTestRelay()
})

afterEach(async () => {
  cleanup()
  await relay.close()
})

/** The states rendered, each run of repeats as one. */
const statesOf = (values: ReadonlyArray<{ state: string }>): string[] =>
  values.map(({ state }) => state).filter((state, index, all) => state !== all[index - 1])

describe('useSyncStatus', () => {
  it('renders the handle going from offline through syncing to synced', async () => {
    const client = testClient(relay, { autoConnect: false })
    const handle = client.open('status')
    const log = renderLog(() => useSyncStatus(handle))
    expect(log.latest().state).toBe('offline')
    client.connect()
    await log.until((status) => status.state === 'synced', 'synced')
    const states = statesOf(log.values)
    expect(states[0]).toBe('offline')
    expect(states.at(-1)).toBe('synced')
    expect(states).toContain('syncing')
    expect(states.indexOf('syncing')).toBeLessThan(states.indexOf('synced'))
    expect(log.latest().status).toBe(handle.status)
  })

  it('counts edits waiting for the relay and renders 0 and the save time once they are saved', async () => {
    const client = testClient(relay)
    const handle = client.open('pending')
    await handle.whenSynced()
    const log = renderLog(() => useSyncStatus(handle))
    expect(log.latest()).toMatchObject({ pending: 0, lastSavedAt: null })
    client.disconnect() // the edits wait in the outbox
    handle.doc.getMap('m').set('a', 1)
    await log.until((status) => status.pending === 1, 'one edit waiting')
    handle.doc.getMap('m').set('b', 2)
    await log.until((status) => status.pending === 2, 'two edits waiting')
    expect(log.latest().lastSavedAt).toBeNull()
    const before = Date.now()
    client.connect()
    const saved = await log.until((status) => status.pending === 0, 'all saved')
    // 0 is rendered only once the relay says the edits are on its disk.
    expect(handle.pending).toBe(0)
    expect(saved.lastSavedAt).toBeGreaterThanOrEqual(before)
    expect(log.values.map(({ pending }) => pending)).toEqual(expect.arrayContaining([0, 1, 2]))
  })

  it('keeps the same object while nothing it shows changes', async () => {
    const client = testClient(relay)
    const handle = client.open('stable')
    await handle.whenSynced()
    const log = renderLog(() => useSyncStatus(handle))
    log.rerender()
    log.rerender()
    expect(log.values).toHaveLength(3)
    expect(new Set(log.values).size).toBe(1)
  })

  it('refuses what is not a DocHandle with INVALID_ARGUMENT', () => {
    expect(() => renderLog(() => useSyncStatus({} as never))).toThrow(
      /INVALID_ARGUMENT: useSyncStatus needs a DocHandle/,
    )
  })
})
