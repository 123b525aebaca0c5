import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { launchChromium, spawnRelay, type RelayProcess } from '@weft/testkit'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const DEMO = fileURLToPath(new URL('..', import.meta.url))
const DIST = join(DEMO, 'dist')
const RELAY_MAIN = fileURLToPath(new URL('../../relay/src/main.ts', import.meta.url))
const SHOTS = fileURLToPath(new URL('../../../test-output/demo/', import.meta.url))

let relay: RelayProcess
let browser: Browser
let dataDir: string

beforeAll(async () => {
  // The app as the relay serves it: built with Vite, then served from dist/.
  execFileSync(process.execPath, [join(DEMO, 'node_modules/vite/bin/vite.js'), 'build'], {
    cwd: DEMO,
    stdio: 'pipe',
  })
  dataDir = mkdtempSync(join(tmpdir(), 'weft-demo-'))
  relay = await spawnRelay(RELAY_MAIN, dataDir, ['--static-dir', DIST])
  browser = await launchChromium()
  mkdirSync(SHOTS, { recursive: true })
}, 600_000)

afterAll(async () => {
  await browser?.close()
  await relay?.stop()
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
})

const open = async (doc: string): Promise<Page> => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  const page = await context.newPage()
  page.on('pageerror', (error) => console.error('page error:', error.message))
  await page.goto(`http://127.0.0.1:${relay.port}/?doc=${doc}`)
  await page.waitForSelector('.cm-content')
  return page
}

const syncState = (page: Page): Promise<string | null> =>
  page.locator('#sync').getAttribute('data-state')

const untilState = (page: Page, state: string): Promise<unknown> =>
  page.waitForSelector(`#sync[data-state="${state}"]`, { timeout: 10_000 })

/** The note as the document holds it (the editor also shows other users' cursor labels). */
const noteText = (page: Page): Promise<string> =>
  page.evaluate(() =>
    (
      window as unknown as {
        weftDemo: { handle: { doc: { getText(name: string): { toString(): string } } } }
      }
    ).weftDemo.handle.doc
      .getText('note')
      .toString(),
  )

const taskTitles = (page: Page): Promise<string[]> => page.locator('.task .title').allInnerTexts()

const typeInNote = async (page: Page, text: string): Promise<void> => {
  await page.locator('.cm-content').click()
  await page.keyboard.press('End')
  await page.keyboard.type(text)
}

const addTask = async (page: Page, title: string): Promise<void> => {
  await page.fill('#task-title', title)
  await page.press('#task-title', 'Enter')
}

const until = async (check: () => Promise<boolean>, what: string): Promise<void> => {
  const deadline = Date.now() + 10_000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('the demo in Chromium', () => {
  it('two tabs edit the note and the board and converge, through offline edits and a reload', async () => {
    const doc = `browser-${Date.now()}`
    const [alice, bob] = [await open(doc), await open(doc)]
    await Promise.all([untilState(alice, 'saved'), untilState(bob, 'saved')])
    await alice.screenshot({ path: join(SHOTS, '1-synced.png') })

    await typeInNote(alice, 'Hello from Alice. ')
    await addTask(bob, 'Write the release notes')
    await until(
      async () => (await noteText(bob)).includes('Hello from Alice.'),
      'bob sees the note',
    )
    await until(
      async () => (await taskTitles(alice)).includes('Write the release notes'),
      'alice sees the task',
    )
    await Promise.all([untilState(alice, 'saved'), untilState(bob, 'saved')])

    // Bob goes offline and keeps working: the indicator counts what waits.
    await bob.uncheck('#online')
    await untilState(bob, 'offline')
    await typeInNote(bob, 'Bob, offline. ')
    await addTask(bob, 'Offline task')
    await until(
      async () => /waiting/.test(await bob.locator('#sync-text').innerText()),
      'bob shows waiting edits',
    )
    await bob.screenshot({ path: join(SHOTS, '2-offline-waiting.png') })
    await typeInNote(alice, 'Alice meanwhile. ')

    // A reload while offline: the edits come back from IndexedDB, still waiting.
    await bob.reload()
    await bob.waitForSelector('.cm-content')
    await until(
      async () => (await noteText(bob)).includes('Bob, offline.'),
      'bob keeps his note after reload',
    )
    expect(await taskTitles(bob)).toContain('Offline task')
    expect(await syncState(bob)).toBe('offline')
    expect(await bob.locator('#online').isChecked()).toBe(false)

    // Online again: both converge, and everything is saved.
    await bob.check('#online')
    await Promise.all([untilState(alice, 'saved'), untilState(bob, 'saved')])
    await until(async () => (await noteText(alice)) === (await noteText(bob)), 'the notes converge')
    const merged = await noteText(alice)
    for (const part of ['Hello from Alice.', 'Bob, offline.', 'Alice meanwhile.'])
      expect(merged).toContain(part)
    await until(
      async () => (await taskTitles(alice)).sort().join() === (await taskTitles(bob)).sort().join(),
      'the boards converge',
    )
    expect((await taskTitles(alice)).sort()).toEqual(['Offline task', 'Write the release notes'])
    await alice.screenshot({ path: join(SHOTS, '3-converged.png') })
  }, 120_000)

  it('shows concurrent moves of one task in the conflicts panel, and picking one resolves it in both tabs', async () => {
    const doc = `conflict-${Date.now()}`
    const [alice, bob] = [await open(doc), await open(doc)]
    await Promise.all([untilState(alice, 'saved'), untilState(bob, 'saved')])
    await addTask(alice, 'Contested task')
    await until(async () => (await taskTitles(bob)).includes('Contested task'), 'bob sees the task')
    await Promise.all([untilState(alice, 'saved'), untilState(bob, 'saved')])
    // Both offline, both move the task somewhere else.
    await alice.uncheck('#online')
    await bob.uncheck('#online')
    await alice.click('.column[data-status="todo"] .task button:has-text("→ doing")')
    await bob.click('.column[data-status="todo"] .task button:has-text("→ done")')
    await alice.check('#online')
    await bob.check('#online')
    await Promise.all([untilState(alice, 'saved'), untilState(bob, 'saved')])
    for (const page of [alice, bob]) {
      await page.waitForSelector('#conflicts:not([hidden]) .conflict', { timeout: 10_000 })
      expect(await page.locator('.conflict .pick').count()).toBe(2)
    }
    // Both tabs show the same winner (the later write) in the same column.
    const shownIn = async (page: Page): Promise<string | null> =>
      page
        .locator('.task', { hasText: 'Contested task' })
        .locator('xpath=ancestor::div[@data-status]')
        .getAttribute('data-status')
    expect(await shownIn(alice)).toBe(await shownIn(bob))
    await alice.screenshot({ path: join(SHOTS, '4-conflict.png') })
    // Alice keeps the value that lost.
    const loser = alice.locator('.conflict .pick:not(.winner)')
    const kept = (await loser.innerText()).split(' ')[0]
    await loser.click()
    for (const page of [alice, bob]) {
      await page.waitForSelector('#conflicts[hidden]', { state: 'attached', timeout: 10_000 })
      await until(async () => (await shownIn(page)) === kept, `the task moves to ${kept}`)
    }
  }, 120_000)
})
