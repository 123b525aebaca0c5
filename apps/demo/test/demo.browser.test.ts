import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  addTask,
  newProfile,
  noteText,
  openTab,
  SHOTS,
  startDemo,
  syncState,
  taskTitles,
  typeInNote,
  until,
  untilState,
  type DemoFixture,
} from './demo-fixture.js'

// Two users: each tab in a browser profile of its own (tabs of one profile: tabs.browser.test.ts).
let demo: DemoFixture

beforeAll(async () => {
  demo = await startDemo()
}, 600_000)

afterAll(async () => {
  await demo?.close()
})

const open = async (doc: string): Promise<Page> =>
  openTab(await newProfile(demo.browser), demo.relay.port, doc)

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
