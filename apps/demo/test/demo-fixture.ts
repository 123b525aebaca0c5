/** The demo as users run it for browser tests: built with Vite, served by a relay process, in Chromium. */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openModel } from '@weft/doc'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import * as Y from 'yjs'
import { boardSchema } from '../src/schema.js'
import { startPage, type PageFixture } from './page-fixture.js'

const DEMO = fileURLToPath(new URL('..', import.meta.url))
/** Screenshots of the browser tests. */
export const SHOTS = fileURLToPath(new URL('../../../test-output/demo/', import.meta.url))

/** A relay process serving a fresh build of the demo, and a Chromium. */
export type DemoFixture = PageFixture

/** Builds the demo into a directory of its own (test files run in parallel) and serves it. */
export const startDemo = async (): Promise<DemoFixture> => {
  const fixture = await startPage(DEMO, { configFile: join(DEMO, 'vite.config.ts') })
  mkdirSync(SHOTS, { recursive: true })
  return fixture
}

/** A new browser profile: its tabs share IndexedDB, Web Locks and BroadcastChannel. */
export const newProfile = (browser: Browser): Promise<BrowserContext> =>
  browser.newContext({ viewport: { width: 1280, height: 800 } })

/** Opens the demo on `doc` in a new tab of `context`; `offline` starts it with the switch off. */
export const openTab = async (
  context: BrowserContext,
  port: number,
  doc: string,
  options: { offline?: boolean } = {},
): Promise<Page> => {
  const page = await context.newPage()
  page.on('pageerror', (error) => console.error('page error:', error.message))
  if (options.offline === true)
    await page.addInitScript(() => sessionStorage.setItem('weft-demo-offline', '1'))
  await page.goto(`http://127.0.0.1:${port}/?doc=${doc}`)
  await page.waitForSelector('.cm-content')
  return page
}

/** Resolves once the sync indicator shows `state` (`saved`, `offline`, `waiting`…). */
export const untilState = (page: Page, state: string, timeout = 15_000): Promise<unknown> =>
  page.waitForSelector(`#sync[data-state="${state}"]`, { timeout })

/** The sync indicator's state. */
export const syncState = (page: Page): Promise<string | null> =>
  page.locator('#sync').getAttribute('data-state')

/** The note as the document holds it (the editor also shows other users' cursor labels). */
export const noteText = (page: Page): Promise<string> =>
  page.evaluate(() =>
    (
      window as unknown as {
        weftDemo: { handle: { doc: { getText(name: string): { toString(): string } } } }
      }
    ).weftDemo.handle.doc
      .getText('note')
      .toString(),
  )

/** Edits the tab's handle has not seen saved. */
export const pendingOf = (page: Page): Promise<number> =>
  page.evaluate(
    () =>
      (window as unknown as { weftDemo: { handle: { pending: number } } }).weftDemo.handle.pending,
  )

/** The task titles the board shows. */
export const taskTitles = (page: Page): Promise<string[]> =>
  page.locator('.task .title').allInnerTexts()

/** Types at the end of the note, through the CodeMirror editor. */
export const typeInNote = async (page: Page, text: string): Promise<void> => {
  await page.locator('.cm-content').click()
  await page.keyboard.press('Control+End')
  await page.keyboard.type(text)
}

/** Adds a task through the board's form. */
export const addTask = async (page: Page, title: string): Promise<void> => {
  await page.fill('#task-title', title)
  await page.press('#task-title', 'Enter')
}

/** Waits until `check` holds, checking every 50 ms for up to `timeoutMs`. */
export const until = async (
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** The document as the relay has it on disk, read over its HTTP API: note and task titles. */
export const relayCopy = async (
  port: number,
  doc: string,
): Promise<{ note: string; tasks: string[] }> => {
  const response = await fetch(`http://127.0.0.1:${port}/v1/docs/${doc}/update`)
  if (!response.ok) throw new Error(`GET update: ${response.status} ${await response.text()}`)
  const ydoc = new Y.Doc()
  Y.applyUpdate(ydoc, new Uint8Array(await response.arrayBuffer()))
  const model = openModel(ydoc, boardSchema, { author: 'test' })
  const tasks = model
    .collection('tasks')
    .list()
    .map((task) => task.title)
  return { note: ydoc.getText('note').toString(), tasks }
}

/** Open WebSocket connections, from the relay's Prometheus metrics. */
export const relaySockets = async (port: number): Promise<number> => {
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const match = /^weft_connections (\d+)$/m.exec(metrics)
  if (match === null) throw new Error('no weft_connections in /metrics')
  return Number(match[1])
}
