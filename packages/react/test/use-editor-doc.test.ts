// @vitest-environment happy-dom
import { cleanup } from '@testing-library/react'
import { WeftProvider } from '@weft/client'
import { jwtAuth } from '@weft/server'
import { scopedToken, startTestRelay, TEST_SECRET, testClient, type TestRelay } from '@weft/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { useEditorDoc } from '../src/index.js'
import { renderLog } from './render-log.js'

let relay: TestRelay

beforeEach(async () => {
  relay = await startTestRelay({ auth: jwtAuth({ secret: TEST_SECRET }) })
})

afterEach(async () => {
  cleanup()
  await relay.close()
})

describe('useEditorDoc', () => {
  it('gives the rebuilt document and awareness after the relay refuses an edit, the same object until then', async () => {
    const token = await scopedToken('ann', [{ pattern: '**', access: 'write', types: ['note'] }])
    const provider = new WeftProvider(testClient(relay, { token }), 'note', new Y.Doc())
    await provider.handle.whenSynced()
    const log = renderLog(() => useEditorDoc(provider))
    const first = log.latest()
    expect(first.doc).toBe(provider.doc)
    first.doc.getText('note').insert(0, 'kept')
    await provider.handle.whenSaved()
    log.rerender()
    expect(log.latest()).toBe(first)

    // A root type the token does not allow: refused, and the document rebuilt without it.
    first.doc.getMap('forbidden').set('x', 1)
    const rebuilt = await log.until(({ doc }) => doc !== first.doc, 'the rebuilt document')
    expect(rebuilt.doc).toBe(provider.doc)
    expect(rebuilt.awareness).toBe(provider.awareness)
    expect(rebuilt.awareness).not.toBe(first.awareness)
    expect(rebuilt.doc.getText('note').toString()).toBe('kept')
    expect(rebuilt.doc.getMap('forbidden').size).toBe(0)
    provider.destroy()
  })

  it('refuses what is not a WeftProvider', () => {
    expect(() => renderLog(() => useEditorDoc({} as WeftProvider))).toThrow(
      /INVALID_ARGUMENT: useEditorDoc needs a WeftProvider/,
    )
  })
})
