import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { launchChromium, spawnRelay, type RelayProcess } from '@weft/testkit'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { build } from 'vite'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { newProfile, relaySockets, SHOTS, until } from './demo-fixture.js'
import type { PageApi } from './editors/page-api.js'

// Tiptap (y-prosemirror), Quill (y-quill) and Monaco (y-monaco), each bound to an unchanged
// WeftProvider through `provider.bind`, in two tabs of one browser profile sharing one connection.
const PAGE = fileURLToPath(new URL('./editors/', import.meta.url))
const RELAY_MAIN = fileURLToPath(new URL('../../relay/src/main.ts', import.meta.url))

let relay: RelayProcess
let browser: Browser
let profile: BrowserContext | null = null
let outDir: string
let dataDir: string

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'weft-editors-page-'))
  dataDir = mkdtempSync(join(tmpdir(), 'weft-editors-relay-'))
  await build({
    root: PAGE,
    base: './',
    logLevel: 'warn',
    configFile: false,
    build: { outDir, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 8192 },
  })
  relay = await spawnRelay(RELAY_MAIN, dataDir, ['--static-dir', outDir])
  browser = await launchChromium()
}, 600_000)

afterEach(async () => {
  await profile?.close()
  profile = null
})

afterAll(async () => {
  await browser?.close()
  await relay?.stop()
  for (const dir of [outDir, dataDir]) if (dir) rmSync(dir, { recursive: true, force: true })
})

type EditorName = 'tiptap' | 'quill' | 'monaco'

/** Per editor: where to click to type, and the element a remote cursor is drawn with. */
// y-monaco draws no name, only a caret classed with the other user's Yjs client id.
const EDITORS: Record<EditorName, { input: string; remoteCursor: string; label?: string }> = {
  tiptap: {
    input: '.ProseMirror',
    remoteCursor: '.collaboration-cursor__caret',
    label: '.collaboration-cursor__label',
  },
  quill: { input: '.ql-editor', remoteCursor: '.ql-cursor-caret', label: '.ql-cursor-name' },
  monaco: { input: '.monaco-editor .view-lines', remoteCursor: '.yRemoteSelectionHead' },
}

/** Cursors must show well before y-protocols' 15 s renewal would bring a lost one back. */
const CURSOR_MS = 5000

/** Waits until the editor in `page` draws the other tab's cursor (labelled `name`, where it has labels). */
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

/** The relay's copy of the editor's shared type, as `PageApi.shared()` gives it. */
const relayShared = async (editor: EditorName, doc: string): Promise<string> => {
  const response = await fetch(`http://127.0.0.1:${relay.port}/v1/docs/${doc}/update`)
  if (!response.ok) throw new Error(`GET update: ${response.status}`)
  const ydoc = new Y.Doc()
  Y.applyUpdate(ydoc, new Uint8Array(await response.arrayBuffer()))
  return editor === 'tiptap'
    ? ydoc.getXmlFragment('prosemirror').toString()
    : ydoc.getText(editor).toString()
}

/** Runs `fn` (self-contained: it is sent as source) on the tab's `window.weftEditor`. */
const onPage = <T>(page: Page, fn: (api: PageApi) => T): Promise<T> =>
  page.evaluate((source) => {
    const api = (window as unknown as { weftEditor: PageApi }).weftEditor
    return (new Function(`return (${source})`)() as (api: PageApi) => T)(api)
  }, fn.toString()) as Promise<T>

const openTab = async (editor: EditorName, doc: string, name: string): Promise<Page> => {
  const page = await (profile as BrowserContext).newPage()
  page.on('pageerror', (error) => console.error(`${editor} page error:`, error.message))
  await page.goto(`http://127.0.0.1:${relay.port}/?editor=${editor}&doc=${doc}&name=${name}`)
  await page.waitForFunction(() => 'weftEditor' in window)
  await page.waitForSelector(EDITORS[editor].input)
  return page
}

/** Types `text` at the end of the editor, with the keyboard. */
const typeAtEnd = async (page: Page, editor: EditorName, text: string): Promise<void> => {
  await page.locator(EDITORS[editor].input).click()
  await page.keyboard.press('Control+End')
  await page.keyboard.type(text)
}

const state = (page: Page): Promise<{ status: string; pending: number }> =>
  onPage(page, (api) => ({
    status: api.provider.handle.status.state,
    pending: api.provider.handle.pending,
  }))

const visible = (page: Page): Promise<string> => onPage(page, (api) => api.visible())
const shared = (page: Page): Promise<string> => onPage(page, (api) => api.shared())

/** The user names in the tab's awareness other than its own. */
const othersSeen = (page: Page): Promise<string[]> =>
  onPage(page, (api) =>
    [...api.provider.awareness.getStates()]
      .filter(([id]) => id !== api.provider.awareness.clientID)
      .map(([, state]) => (state as { user?: { name?: string } }).user?.name ?? ''),
  )

const saved = (page: Page): Promise<void> =>
  until(
    async () => {
      const now = await state(page)
      return now.status === 'synced' && now.pending === 0
    },
    'the tab is synced with nothing pending',
    20_000,
  )

const runEditor = async (editor: EditorName): Promise<void> => {
  const doc = `${editor}-${Date.now()}`
  profile = await newProfile(browser)
  const a = await openTab(editor, doc, 'Ann')
  const b = await openTab(editor, doc, 'Bob')
  await Promise.all([saved(a), saved(b)])
  expect(await relaySockets(relay.port)).toBe(1)

  await typeAtEnd(a, editor, 'Ann online. ')
  await until(async () => (await visible(b)).includes('Ann online.'), 'b shows a’s typing')

  // Bob's tab goes offline (its app's switch): it neither sends nor receives, even between tabs.
  await onPage(b, (api) => api.client.disconnect())
  await until(async () => (await state(b)).status === 'offline', 'b is offline')
  await typeAtEnd(b, editor, 'Bob offline. ')
  await typeAtEnd(a, editor, 'Ann meanwhile. ')
  await saved(a)
  expect(await visible(a)).not.toContain('Bob offline.')
  expect(await visible(b)).not.toContain('Ann meanwhile.')
  expect((await state(b)).pending).toBeGreaterThan(0)

  await onPage(b, (api) => api.client.connect())
  await Promise.all([saved(a), saved(b)])
  await until(async () => (await shared(a)) === (await shared(b)), 'the tabs converge')
  const text = await shared(a)
  for (const words of ['Ann online.', 'Bob offline.', 'Ann meanwhile.']) {
    expect(await visible(a)).toContain(words)
    expect(await visible(b)).toContain(words)
  }
  expect(await relayShared(editor, doc)).toBe(text)

  // Each tab's cursor shows in the other: in its awareness and drawn by the binding.
  await typeAtEnd(a, editor, 'A.')
  await typeAtEnd(b, editor, 'B.')
  await until(async () => (await othersSeen(a)).includes('Bob'), 'a sees Bob', CURSOR_MS)
  await until(async () => (await othersSeen(b)).includes('Ann'), 'b sees Ann', CURSOR_MS)
  await untilCursorOf(a, editor, 'Bob')
  await untilCursorOf(b, editor, 'Ann')
  await b.screenshot({ path: join(SHOTS, `editor-${editor}.png`) })
  expect(await relaySockets(relay.port)).toBe(1)
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
