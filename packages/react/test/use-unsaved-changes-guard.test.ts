// @vitest-environment happy-dom
import { cleanup } from '@testing-library/react'
import { startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { useUnsavedChangesGuard } from '../src/index.js'
import { renderLog } from './render-log.js'

let relay: TestRelay

beforeEach(async () => {
  relay = await startTestRelay()
})

afterEach(async () => {
  cleanup()
  await relay.close()
})

/** Whether leaving the page now would make the browser ask (a listener cancelled beforeunload). */
const leavingAsks = (): boolean => {
  const event = new Event('beforeunload', { cancelable: true })
  window.dispatchEvent(event)
  return event.defaultPrevented
}

describe('useUnsavedChangesGuard', () => {
  it('makes leaving ask while edits wait for the relay, and stops once they are saved', async () => {
    const client = testClient(relay)
    const handle = client.open('guarded')
    await handle.whenSynced()
    const log = renderLog(() => useUnsavedChangesGuard(handle))
    expect(leavingAsks()).toBe(false)

    client.disconnect()
    handle.doc.getText('t').insert(0, 'unsaved')
    await log.until((pending) => pending === 1, 'an edit waiting')
    expect(leavingAsks()).toBe(true)

    client.connect()
    await log.until((pending) => pending === 0, 'the edit saved')
    expect(handle.pending).toBe(0)
    expect(leavingAsks()).toBe(false)
  })

  it('guards nothing with enabled: false, nor after unmounting', async () => {
    const client = testClient(relay, { autoConnect: false })
    const handle = client.open('unguarded')
    handle.doc.getText('t').insert(0, 'unsaved')
    const off = renderLog(() => useUnsavedChangesGuard(handle, { enabled: false }))
    const on = renderLog(() => useUnsavedChangesGuard(handle))
    await on.until((pending) => pending === 1, 'an edit waiting')
    expect(off.latest()).toBe(1)
    expect(leavingAsks()).toBe(true)
    on.result.unmount()
    expect(leavingAsks()).toBe(false)
    expect(() => renderLog(() => useUnsavedChangesGuard(null as never))).toThrow(
      /INVALID_ARGUMENT: useUnsavedChangesGuard needs a DocHandle/,
    )
  })
})
