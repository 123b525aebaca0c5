/** The editor test page (test/editors) for browser tests: built with Vite, served by a relay, in Chromium. */
import { fileURLToPath } from 'node:url'
import type { BrowserContext, Page } from 'playwright-core'
import * as Y from 'yjs'
import { until } from './demo-fixture.js'
import type { PageApi } from './editors/page-api.js'
import { startPage, type PageFixture } from './page-fixture.js'

const PAGE = fileURLToPath(new URL('./editors/', import.meta.url))

/** The editors the page binds (`?editor=`). */
export type EditorName = 'tiptap' | 'quill' | 'monaco'

/**
 * Per editor: where to click to type, the element a remote cursor is drawn with, and the one
 * holding its name (y-monaco draws no name, only a caret classed with the other's client id).
 */
export const EDITORS: Record<EditorName, { input: string; remoteCursor: string; label?: string }> =
  {
    tiptap: {
      input: '.ProseMirror',
      remoteCursor: '.collaboration-cursor__caret',
      label: '.collaboration-cursor__label',
    },
    quill: { input: '.ql-editor', remoteCursor: '.ql-cursor-caret', label: '.ql-cursor-name' },
    monaco: { input: '.monaco-editor .view-lines', remoteCursor: '.yRemoteSelectionHead' },
  }

/** A relay process serving a fresh build of the editor page, and a Chromium. */
export type EditorsFixture = PageFixture

/** Builds the page into a directory of its own and serves it with a relay given `relayArgs`. */
export const startEditors = (relayArgs: readonly string[] = []): Promise<EditorsFixture> =>
  startPage(PAGE, { relayArgs, chunkSizeWarningLimit: 8192 })

/** Opens the page with `editor` on `doc` in a new tab of `context`, typing as `name`. */
export const openEditorTab = async (
  context: BrowserContext,
  port: number,
  options: { editor: EditorName; doc: string; name: string; token?: string },
): Promise<Page> => {
  const page = await context.newPage()
  page.on('pageerror', (error) => console.error(`${options.editor} page error:`, error.message))
  const query = new URLSearchParams({
    editor: options.editor,
    doc: options.doc,
    name: options.name,
  })
  if (options.token !== undefined) query.set('token', options.token)
  await page.goto(`http://127.0.0.1:${port}/?${query}`)
  await page.waitForFunction(() => 'weftEditor' in window)
  await page.waitForSelector(EDITORS[options.editor].input)
  return page
}

/** Runs `fn` (self-contained: it is sent as source) on the tab's `window.weftEditor`. */
export const onPage = <T>(page: Page, fn: (api: PageApi) => T): Promise<T> =>
  page.evaluate((source) => {
    const api = (window as unknown as { weftEditor: PageApi }).weftEditor
    return (new Function(`return (${source})`)() as (api: PageApi) => T)(api)
  }, fn.toString()) as Promise<T>

/** Types `text` at the end of the editor, with the keyboard. */
export const typeAtEnd = async (page: Page, editor: EditorName, text: string): Promise<void> => {
  await page.locator(EDITORS[editor].input).click()
  await page.keyboard.press('Control+End')
  await page.keyboard.type(text)
}

/** The text the tab's editor shows. */
export const visible = (page: Page): Promise<string> => onPage(page, (api) => api.visible())

/** The tab's shared type, as `toString()` gives it. */
export const shared = (page: Page): Promise<string> => onPage(page, (api) => api.shared())

/** The tab's document status and its edits the relay has not saved. */
export const handleState = (page: Page): Promise<{ status: string; pending: number }> =>
  onPage(page, (api) => ({
    status: api.provider.handle.status.state,
    pending: api.provider.handle.pending,
  }))

/** Resolves once the tab is synced with nothing pending. */
export const untilSaved = (page: Page): Promise<void> =>
  until(
    async () => {
      const now = await handleState(page)
      return now.status === 'synced' && now.pending === 0
    },
    'the tab is synced with nothing pending',
    20_000,
  )

/** The relay's copy of the editor's shared type, as `PageApi.shared()` gives it. */
export const relayShared = async (
  port: number,
  editor: EditorName,
  doc: string,
  token?: string,
): Promise<string> => {
  const response = await fetch(
    `http://127.0.0.1:${port}/v1/docs/${doc}/update`,
    token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
  )
  if (!response.ok) throw new Error(`GET update: ${response.status} ${await response.text()}`)
  const ydoc = new Y.Doc()
  Y.applyUpdate(ydoc, new Uint8Array(await response.arrayBuffer()))
  return editor === 'tiptap'
    ? ydoc.getXmlFragment('prosemirror').toString()
    : ydoc.getText(editor).toString()
}
