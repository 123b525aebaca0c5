// @vitest-environment happy-dom
import { cleanup } from '@testing-library/react'
import { startTestRelay, testClient, type TestRelay } from '@weft/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { usePresence } from '../src/index.js'
import { renderLog } from './render-log.js'

let relay: TestRelay

beforeEach(async () => {
  relay = await startTestRelay()
})

afterEach(async () => {
  cleanup()
  await relay.close()
})

const names = (peers: ReadonlyArray<{ state: Readonly<Record<string, unknown>> }>): unknown[] =>
  peers.map(({ state }) => state['name'])

describe('usePresence', () => {
  it('renders other clients as they arrive, change and leave, and never this one', async () => {
    const [me, ana, ben, quiet] = [relay, relay, relay, relay].map((target) => testClient(target))
    // A client that never sets a state (its awareness holds {}) presents nobody.
    await quiet!.open('room').whenSynced()
    const handle = me!.open('room')
    handle.awareness.setLocalStateField('name', 'Me')
    const log = renderLog(() => usePresence(handle))
    expect(log.latest()).toEqual([])

    const anaHandle = ana!.open('room')
    anaHandle.awareness.setLocalStateField('name', 'Ana')
    const benHandle = ben!.open('room')
    benHandle.awareness.setLocalStateField('name', 'Ben')
    const both = await log.until((peers) => peers.length === 2, 'Ana and Ben')
    expect(names(both).sort()).toEqual(['Ana', 'Ben'])
    expect(both.map(({ clientId }) => clientId).sort((a, b) => a - b)).toEqual(
      [anaHandle.awareness.clientID, benHandle.awareness.clientID].sort((a, b) => a - b),
    )

    anaHandle.awareness.setLocalStateField('name', 'Ana (away)')
    await log.until((peers) => names(peers).includes('Ana (away)'), 'Ana changes her state')
    await benHandle.close()
    const left = await log.until((peers) => peers.length === 1, 'Ben leaves')
    expect(names(left)).toEqual(['Ana (away)'])
    expect(names(log.values.flat())).not.toContain('Me')
  })
})
