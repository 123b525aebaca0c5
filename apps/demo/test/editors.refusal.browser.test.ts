import type { BrowserContext, Page } from 'playwright-core'
import { scopedToken, TEST_SECRET } from '@weft/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { newProfile, until } from './demo-fixture.js'
import {
  EDITORS,
  onPage,
  openEditorTab,
  relayShared,
  startEditors,
  typeAtEnd,
  untilSaved,
  visible,
  type EditorName,
  type EditorsFixture,
} from './editors-fixture.js'

// The relay lets users write the editors' root types only: an edit to any other is refused, and
// the tab's document is rebuilt from the relay's state. `provider.bind` re-creates the binding.
let fixture: EditorsFixture
let profile: BrowserContext | null = null
let token: string

beforeAll(async () => {
  fixture = await startEditors(['--auth', 'jwt', '--jwt-secret', TEST_SECRET])
  const types = ['prosemirror', 'quill', 'monaco']
  token = await scopedToken('ann', [{ pattern: '**', access: 'write', types }])
}, 600_000)

afterEach(async () => {
  await profile?.close()
  profile = null
})

afterAll(async () => {
  await fixture?.close()
})

/** In one transaction: text appended to the editor's type and a key in a forbidden root map. */
const refusedEdit = (page: Page): Promise<void> =>
  onPage(page, (api) => {
    const doc = api.provider.doc
    doc.transact(() => {
      api.appendShared('Refused. ')
      doc.getMap('forbidden').set('x', 1)
    })
  })

const runRefusal = async (editor: EditorName): Promise<void> => {
  const doc = `refused-${editor}-${Date.now()}`
  const port = fixture.relay.port
  profile = await newProfile(fixture.browser)
  const a = await openEditorTab(profile, port, { editor, doc, name: 'Ann', token })
  const b = await openEditorTab(profile, port, { editor, doc, name: 'Bob', token })
  await Promise.all([untilSaved(a), untilSaved(b)])
  await typeAtEnd(a, editor, 'Kept. ')
  await untilSaved(a)

  await onPage(a, (api) => {
    const scope = window as unknown as { resets: number }
    scope.resets = 0
    api.provider.on('reset', () => (scope.resets += 1))
  })
  await refusedEdit(a)
  await until(
    () => a.evaluate(() => (window as unknown as { resets: number }).resets === 1),
    'a’s document is rebuilt',
  )
  expect(await onPage(a, (api) => api.provider.handle.rejected.length)).toBe(1)
  // The re-created binding shows the rebuilt document: the refused text is gone from the editor.
  await until(async () => !(await visible(a)).includes('Refused.'), 'the editor drops it')
  expect(await visible(a)).toContain('Kept.')
  expect(await a.locator(EDITORS[editor].input).count()).toBe(1)

  // Typing goes on in the same editor, now bound to the new document, and reaches everyone.
  await typeAtEnd(a, editor, 'After.')
  await untilSaved(a)
  await until(async () => (await visible(b)).includes('After.'), 'b shows the typing after')
  const stored = await relayShared(port, editor, doc, token)
  expect(stored).toContain('Kept. After.')
  expect(stored).not.toContain('Refused.')
  for (const page of [a, b]) {
    expect(await visible(page)).toContain('Kept. After.')
    expect(await visible(page)).not.toContain('Refused.')
  }
}

describe('an editor bound with provider.bind after the relay refuses an edit', () => {
  for (const editor of ['tiptap', 'quill', 'monaco'] as const) {
    it(`${editor}: the refused text leaves the editor, and typing goes on into the rebuilt document`, async () => {
      await runRefusal(editor)
    }, 60_000)
  }
})
