// @vitest-environment happy-dom
import { cleanup } from '@testing-library/react'
import { MemoryLocalStore, type DocHandle, type WeftClient } from '@weft/client'
import { jwtAuth } from '@weft/server'
import { scopedToken, startTestRelay, TEST_SECRET, testClient, type TestRelay } from '@weft/testkit'
import { Component, createElement, StrictMode, type ReactNode } from 'react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { useDoc, WeftClientProvider } from '../src/index.js'
import { renderLog } from './render-log.js'

let relay: TestRelay

beforeEach(async () => {
  relay = await startTestRelay()
})

afterEach(async () => {
  cleanup()
  await relay.close()
})

const providing =
  (client: WeftClient, strict = false) =>
  ({ children }: { children: ReactNode }): ReactNode => {
    const tree = createElement(WeftClientProvider, { client }, children)
    return strict ? createElement(StrictMode, null, tree) : tree
  }

/** Shows the error its children threw. */
class ShowError extends Component<{ children: ReactNode }, { error: string | null }> {
  override state = { error: null }
  static getDerivedStateFromError(error: Error): { error: string } {
    return { error: error.message }
  }
  override render(): ReactNode {
    return this.state.error === null ? this.props.children : `error: ${this.state.error}`
  }
}

/** Resolves when `handle.close()` is called. */
const whenClosing = (handle: DocHandle): Promise<void> =>
  new Promise((resolve) => {
    const close = handle.close.bind(handle)
    handle.close = () => {
      resolve()
      return close()
    }
  })

describe('useDoc', () => {
  it('gives components one shared handle, open until the last of them unmounts', async () => {
    const client = testClient(relay)
    const wrapper = providing(client)
    const first = renderLog(() => useDoc('shared'), { wrapper })
    const second = renderLog(() => useDoc('shared'), { wrapper })
    const handle = first.latest()
    expect(second.latest()).toBe(handle)
    await handle.whenSynced()
    const closing = whenClosing(handle)
    first.result.unmount()
    // Still held by the second component: the client refuses to open the name again.
    expect(() => client.open('shared')).toThrow(/already open/)
    second.result.unmount()
    await closing
    const reopened = client.open('shared')
    expect(reopened).not.toBe(handle)
  })

  it("keeps the handle through StrictMode's unmount and remount", async () => {
    const client = testClient(relay)
    const log = renderLog(() => useDoc('strict'), { wrapper: providing(client, true) })
    const handle = log.latest()
    let closed = false
    void whenClosing(handle).then(() => (closed = true))
    // Longer than the delay after which a handle nobody holds is closed (100 ms).
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(closed).toBe(false)
    expect(new Set(log.values).size).toBe(1)
    handle.doc.getMap('m').set('k', 'v')
    await handle.whenSaved()
    log.result.unmount()
    await whenClosing(handle)
  })

  it("suspends with { suspend: 'loaded' } until the local copy is in the document", async () => {
    const store = new MemoryLocalStore()
    const stored = new Y.Doc()
    stored.getMap('m').set('from', 'the device')
    await store.write('local', { updates: [Y.encodeStateAsUpdate(stored)] })
    // Not connected: loading the local copy needs no relay.
    const client = testClient(relay, { store, autoConnect: false })
    const log = renderLog(() => useDoc('local', { suspend: 'loaded' }), {
      wrapper: providing(client),
      fallback: 'loading',
    })
    expect(log.result.container.textContent).toBe('loading')
    expect(log.values).toHaveLength(0)
    const handle = await log.until(() => true, 'rendered once loaded')
    expect(handle.doc.getMap('m').get('from')).toBe('the device')
    expect(log.result.container.textContent).toBe('')
  })

  it("suspends with { suspend: 'synced' } until the relay's state has arrived", async () => {
    const writer = testClient(relay).open('remote')
    writer.doc.getMap('m').set('from', 'the relay')
    await writer.whenSaved()
    const client = testClient(relay)
    const log = renderLog(() => useDoc('remote', { suspend: 'synced', client }), {
      fallback: 'syncing',
    })
    expect(log.result.container.textContent).toBe('syncing')
    const handle = await log.until(() => true, 'rendered once synced')
    expect(handle.synced).toBe(true)
    expect(handle.doc.getMap('m').get('from')).toBe('the relay')
    // Synced once is enough: a lost connection does not bring the fallback back.
    client.disconnect()
    expect(handle.synced).toBe(false)
    log.rerender()
    expect(log.values).toHaveLength(2)
    expect(log.result.container.textContent).toBe('')
  })

  it('throws the error of a document that cannot sync to the error boundary instead of suspending for ever', async () => {
    await relay.close()
    relay = await startTestRelay({ auth: jwtAuth({ secret: TEST_SECRET }) })
    const client = testClient(relay, {
      token: () => scopedToken('ana', [{ pattern: 'mine/**', access: 'write' }]),
    })
    const wrapper = ({ children }: { children: ReactNode }): ReactNode =>
      createElement(ShowError, null, createElement(WeftClientProvider, { client }, children))
    const log = renderLog(() => useDoc('theirs/plans', { suspend: 'synced' }), {
      wrapper,
      fallback: 'syncing',
    })
    expect(log.result.container.textContent).toBe('syncing')
    // React reports what a boundary caught on the console; the boundary is the test.
    const reported = vi.spyOn(console, 'error').mockImplementation(() => {})
    await log.result.findByText(
      'error: FORBIDDEN: the token does not cover this document',
      undefined,
      {
        timeout: 10_000,
      },
    )
    reported.mockRestore()
    expect(log.values).toHaveLength(0)
  })

  it('says what to do without a client, with a bad option, and for a bad name', () => {
    expect(() => renderLog(() => useDoc('x'))).toThrow(
      /INVALID_ARGUMENT: no WeftClientProvider above this component/,
    )
    const client = testClient(relay, { autoConnect: false })
    expect(() =>
      renderLog(() => useDoc('x', { suspend: 'saved' as never }), { wrapper: providing(client) }),
    ).toThrow(/INVALID_ARGUMENT: useDoc's options.suspend must be/)
    expect(() => renderLog(() => useDoc('', { client }))).toThrow(/BAD_DOC_NAME/)
  })
})
