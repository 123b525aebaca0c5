import { WeftProvider, type WeftClient } from '@weft/client'
import { jwtAuth } from '@weft/server'
import {
  nextEvent,
  scopedToken,
  startTestRelay,
  TEST_SECRET,
  testClient,
  type TestRelay,
} from '@weft/testkit'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'

// The token lets the user write the `text` root type only: an edit to any other is refused.
let relay: TestRelay
let client: WeftClient

beforeEach(async () => {
  relay = await startTestRelay({ auth: jwtAuth({ secret: TEST_SECRET }) })
  const token = await scopedToken('ann', [{ pattern: '**', access: 'write', types: ['text'] }])
  client = testClient(relay, { token })
})

afterEach(async () => {
  await client.close()
  await relay.close()
})

/** A stand-in editor bound to `doc`'s `text`: shows its content, as y-quill's binding would. */
class FakeEditor {
  readonly doc: Y.Doc
  readonly awareness: Awareness
  shown: string
  destroyed = 0
  readonly #text: Y.Text

  constructor(doc: Y.Doc, awareness: Awareness) {
    this.doc = doc
    this.awareness = awareness
    this.#text = doc.getText('text')
    this.shown = this.#text.toString()
    this.#text.observe(this.#show)
  }

  #show = (): void => {
    this.shown = this.#text.toString()
  }

  type(words: string): void {
    this.#text.insert(this.#text.length, words)
  }

  destroy(): void {
    this.destroyed += 1
    this.#text.unobserve(this.#show)
  }
}

/** Makes an edit the relay refuses, and resolves once the provider emitted `reset`. */
const refuse = async (provider: WeftProvider, key: string): Promise<void> => {
  const reset = nextEvent(provider, 'reset')
  provider.doc.getMap('forbidden').set(key, 1)
  await expect(provider.handle.whenSaved()).rejects.toMatchObject({ code: 'FORBIDDEN' })
  await reset
}

/** The `text` the relay has on disk. */
const stored = async (name: string): Promise<string> => {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, await relay.relay.documents.update(name))
  return doc.getText('text').toString()
}

describe('WeftProvider.bind: a binding that follows the document across refused edits', () => {
  it('re-creates the binding on the new document after each refusal and destroys the old one', async () => {
    const provider = new WeftProvider(client, 'bound', new Y.Doc())
    const editors: FakeEditor[] = []
    provider.bind((doc, awareness) => {
      const editor = new FakeEditor(doc, awareness)
      editors.push(editor)
      return editor
    })
    const boundWhenReset: number[] = []
    provider.on('reset', () => boundWhenReset.push(editors.length))
    await provider.handle.whenSynced()
    const first = editors[0]!
    expect(first.doc).toBe(provider.doc)
    first.type('saved. ')
    await provider.handle.whenSaved()

    await refuse(provider, 'one')
    expect(editors).toHaveLength(2)
    const second = editors[1]!
    expect(first.destroyed).toBe(1)
    expect(second.doc).toBe(provider.doc)
    expect(second.doc).not.toBe(first.doc)
    expect(second.awareness).toBe(provider.awareness)
    expect(boundWhenReset).toEqual([2])
    // The new editor shows the relay's state; the refused edit is set aside, not in the document.
    expect(second.shown).toBe('saved. ')
    expect(provider.doc.getMap('forbidden').size).toBe(0)
    expect(provider.handle.rejected).toHaveLength(1)
    // The old document is dead: what reaches it no longer shows in any live editor.
    first.doc.getText('text').insert(0, 'lost ')
    expect(second.shown).toBe('saved. ')

    second.type('after one. ')
    await provider.handle.whenSaved()
    await refuse(provider, 'two')
    expect(editors).toHaveLength(3)
    expect(second.destroyed).toBe(1)
    const third = editors[2]!
    expect(third.shown).toBe('saved. after one. ')
    third.type('after two.')
    await provider.handle.whenSaved()
    expect(await stored('bound')).toBe('saved. after one. after two.')

    provider.destroy()
    expect(third.destroyed).toBe(1)
    expect(editors.map((editor) => editor.destroyed)).toEqual([1, 1, 1])
  })

  it('keeps the edits still waiting at the refusal in the re-created editor', async () => {
    const provider = new WeftProvider(client, 'waiting', new Y.Doc())
    let editor: FakeEditor | undefined
    provider.bind((doc, awareness) => (editor = new FakeEditor(doc, awareness)))
    await provider.handle.whenSynced()
    editor!.type('before. ')
    await provider.handle.whenSaved()
    provider.disconnect()
    const reset = nextEvent(provider, 'reset')
    editor!.type('waiting. ')
    provider.doc.getMap('forbidden').set('x', 1)
    provider.connect()
    await reset
    // Only the refused edit is set aside: the one made before it is rebuilt into the new document.
    expect(editor!.doc).toBe(provider.doc)
    expect(editor!.shown).toBe('before. waiting. ')
    expect(provider.handle.rejected).toHaveLength(1)
    await provider.handle.whenSaved()
    expect(await stored('waiting')).toBe('before. waiting. ')
    provider.destroy()
  })

  it('unbind() destroys the binding and stops following; a cleanup function works as destroy()', async () => {
    const provider = new WeftProvider(client, 'unbound', new Y.Doc())
    const calls: string[] = []
    const unbind = provider.bind(() => {
      calls.push('create a')
      return () => calls.push('cleanup a')
    })
    provider.bind(() => {
      calls.push('create b')
    })
    await provider.handle.whenSynced()
    unbind()
    unbind()
    expect(calls).toEqual(['create a', 'create b', 'cleanup a'])
    await refuse(provider, 'x')
    expect(calls).toEqual(['create a', 'create b', 'cleanup a', 'create b'])
    provider.destroy()
  })

  it('rethrows a factory’s error on reset in a microtask, and the other bindings still follow', async () => {
    const provider = new WeftProvider(client, 'throwing', new Y.Doc())
    const broken = new Error('the editor could not be made')
    let calls = 0
    provider.bind(() => {
      calls += 1
      if (calls > 1) throw broken
    })
    const docs: Y.Doc[] = []
    provider.bind((doc) => {
      docs.push(doc)
    })
    await provider.handle.whenSynced()
    // Errors thrown by queued tasks are kept here rather than reaching the test runner.
    const thrown: unknown[] = []
    const queue = globalThis.queueMicrotask
    vi.stubGlobal('queueMicrotask', (task: () => void) =>
      queue(() => {
        try {
          task()
        } catch (error) {
          thrown.push(error)
        }
      }),
    )
    try {
      await refuse(provider, 'x')
    } finally {
      vi.unstubAllGlobals()
    }
    expect(docs).toEqual([docs[0], provider.doc])
    expect(thrown).toEqual([broken])
    provider.destroy()
  })

  it('rejects what is not a binding factory, or a binding, and binding after destroy()', () => {
    const provider = new WeftProvider(client, 'checked', new Y.Doc())
    expect(() => provider.bind(42 as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
    expect(() => provider.bind(() => ({ close() {} }) as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
    provider.destroy()
    expect(() => provider.bind(() => {})).toThrow(expect.objectContaining({ code: 'CLOSED' }))
  })
})
