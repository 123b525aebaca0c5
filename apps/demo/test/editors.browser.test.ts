import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { newProfile, relaySockets, SHOTS, until } from './demo-fixture.js'
import {
  EDITORS,
  handleState,
  onPage,
  openEditorTab,
  relayShared,
  shared,
  startEditors,
  typeAtEnd,
  untilSaved,
  visible,
  type EditorName,
  type EditorsFixture,
} from './editors-fixture.js'

// Tiptap (y-prosemirror), Quill (y-quill) and Monaco (y-monaco), each bound to an unchanged
// WeftProvider through `provider.bind`, in two tabs of one browser profile sharing one connection.
let fixture: EditorsFixture
let profile: BrowserContext | null = null

beforeAll(async () => {
  fixture = await startEditors()
}, 600_000)

afterEach(async () => {
  await profile?.close()
  profile = null
})

afterAll(async () => {
  await fixture?.close()
})

/** Cursors must show well before y-protocols' 15 s renewal would bring a lost one back. */
const CURSOR_MS = 8000

/** Waits until the editor in `page` draws the other tab's cursor (named `name`, where it can). */
const untilCursorOf = async (page: Page, editor: EditorName, name: string): Promise<void> => {
  const { remoteCursor, label } = EDITORS[editor]
  await page.waitForSelector(remoteCursor, { state: 'attached', timeout: CURSOR_MS })
  if (label !== undefined)
    await until(
      async () => (await page.locator(label).allTextContents()).includes(name),
      `${name}’s cursor label`,
      CURSOR_MS,
    )
}

/** The user names in the tab's awareness other than its own. */
const othersSeen = (page: Page): Promise<string[]> =>
  onPage(page, (api) =>
    [...api.provider.awareness.getStates()]
      .filter(([id]) => id !== api.provider.awareness.clientID)
      .map(([, state]) => (state as { user?: { name?: string } }).user?.name ?? ''),
  )

const runEditor = async (editor: EditorName): Promise<void> => {
  const doc = `${editor}-${Date.now()}`
  const port = fixture.relay.port
  profile = await newProfile(fixture.browser)
  const a = await openEditorTab(profile, port, { editor, doc, name: 'Ann' })
  const b = await openEditorTab(profile, port, { editor, doc, name: 'Bob' })
  await Promise.all([untilSaved(a), untilSaved(b)])
  expect(await relaySockets(port)).toBe(1)

  await typeAtEnd(a, editor, 'Ann online. ')
  await until(async () => (await visible(b)).includes('Ann online.'), 'b shows a’s typing')

  // Bob's tab goes offline (its app's switch): it neither sends nor receives, even between tabs.
  await onPage(b, (api) => api.client.disconnect())
  await until(async () => (await handleState(b)).status === 'offline', 'b is offline')
  await typeAtEnd(b, editor, 'Bob offline. ')
  await typeAtEnd(a, editor, 'Ann meanwhile. ')
  await untilSaved(a)
  expect(await visible(a)).not.toContain('Bob offline.')
  expect(await visible(b)).not.toContain('Ann meanwhile.')
  expect((await handleState(b)).pending).toBeGreaterThan(0)

  await onPage(b, (api) => api.client.connect())
  await Promise.all([untilSaved(a), untilSaved(b)])
  await until(async () => (await shared(a)) === (await shared(b)), 'the tabs converge')
  const text = await shared(a)
  for (const words of ['Ann online.', 'Bob offline.', 'Ann meanwhile.']) {
    expect(await visible(a)).toContain(words)
    expect(await visible(b)).toContain(words)
  }
  expect(await relayShared(port, editor, doc)).toBe(text)

  // Each tab's cursor shows in the other: in its awareness and drawn by the binding.
  await typeAtEnd(a, editor, 'A.')
  await typeAtEnd(b, editor, 'B.')
  await until(async () => (await othersSeen(a)).includes('Bob'), 'a sees Bob', CURSOR_MS)
  await until(async () => (await othersSeen(b)).includes('Ann'), 'b sees Ann', CURSOR_MS)
  await untilCursorOf(a, editor, 'Bob')
  await untilCursorOf(b, editor, 'Ann')
  await b.screenshot({ path: join(SHOTS, `editor-${editor}.png`) })
  expect(await relaySockets(port)).toBe(1)
}

describe('editor bindings on an unchanged WeftProvider, two tabs of one profile', () => {
  it('Tiptap 2 (y-prosemirror): typing in both tabs, one offline a while, converges with cursors', async () => {
    await runEditor('tiptap')
  }, 60_000)

  it('Quill 2 (y-quill, quill-cursors): typing in both tabs, one offline a while, converges with cursors', async () => {
    await runEditor('quill')
  }, 60_000)

  it('Monaco (y-monaco): typing in both tabs, one offline a while, converges with cursors', async () => {
    await runEditor('monaco')
  }, 60_000)
})
