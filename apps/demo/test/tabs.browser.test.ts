import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  addTask,
  newProfile,
  noteText,
  openTab,
  pendingOf,
  relayCopy,
  relaySockets,
  SHOTS,
  startDemo,
  syncState,
  taskTitles,
  typeInNote,
  until,
  untilState,
  type DemoFixture,
} from './demo-fixture.js'

// Tabs of ONE browser profile: they share IndexedDB (the demo's `weft-demo` store), Web Locks and
// BroadcastChannel, as a user's tabs do.
let demo: DemoFixture
let profile: BrowserContext | null = null

beforeAll(async () => {
  demo = await startDemo()
}, 600_000)
afterEach(async () => {
  await profile?.close()
  profile = null
})
afterAll(async () => {
  await demo?.close()
})

const tabs = async (doc: string, count: number): Promise<Page[]> => {
  profile = await newProfile(demo.browser)
  const pages: Page[] = []
  // One after the other: the first tab leads (it asked for the leader lock first).
  for (let index = 0; index < count; index += 1)
    pages.push(await openTab(profile, demo.relay.port, doc))
  await Promise.all(pages.map((page) => untilState(page, 'saved')))
  return pages
}

/**
 * Appends `tokens` to the note through the tab's document, one edit (transaction) each, and
 * resolves once they are stored on the device (as a person's typing is before a reload).
 */
const appendTokens = (page: Page, tokens: string[]): Promise<void> =>
  page.evaluate(async (tokens) => {
    const { handle } = (
      window as unknown as {
        weftDemo: { handle: { doc: import('yjs').Doc; whenStored(): Promise<void> } }
      }
    ).weftDemo
    for (const token of tokens) {
      const note = handle.doc.getText('note')
      note.insert(note.length, token)
      // A turn of the event loop between edits, as typing has.
      await new Promise((resolve) => setTimeout(resolve, 0))
    }
    await handle.whenStored()
  }, tokens)

const tokensOf = (tab: string, from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, index) => `[${tab}${from + index}]`)

/** Every token appears in `text` exactly once. */
const expectEachOnce = (text: string, tokens: string[]): void => {
  const missing = tokens.filter((token) => !text.includes(token))
  const twice = tokens.filter((token) => text.indexOf(token) !== text.lastIndexOf(token))
  expect({ missing, twice }).toEqual({ missing: [], twice: [] })
}

/** Sets a presence field in `from` and waits until `to` sees it. */
const fence = async (from: Page, to: Page): Promise<void> => {
  const token = `fence-${Math.random()}`
  await from.evaluate((token) => {
    const { handle } = (
      window as unknown as {
        weftDemo: { handle: { awareness: import('y-protocols/awareness').Awareness } }
      }
    ).weftDemo
    handle.awareness.setLocalStateField('fence', token)
  }, token)
  await until(
    () =>
      to.evaluate((token) => {
        const { handle } = (
          window as unknown as {
            weftDemo: { handle: { awareness: import('y-protocols/awareness').Awareness } }
          }
        ).weftDemo
        return [...handle.awareness.getStates().values()].some((state) => state['fence'] === token)
      }, token),
    'the fence arrives',
  )
}

/** Keeps the times of the tab's status changes, to measure a handover. */
const recordStatuses = (page: Page): Promise<void> =>
  page.evaluate(() => {
    const scope = window as unknown as {
      weftDemo: {
        handle: { on(event: 'status', listener: (status: { state: string }) => void): void }
      }
      statusLog?: Array<{ state: string; at: number }>
    }
    const log: Array<{ state: string; at: number }> = []
    scope.statusLog = log
    scope.weftDemo.handle.on('status', (status) =>
      log.push({ state: status.state, at: Date.now() }),
    )
  })

/** When the tab was synced again after it lost its sync past `since` (ms since the epoch). */
const syncedAgainAt = async (page: Page, since: number): Promise<number> => {
  const log = await page.evaluate(
    () => (window as unknown as { statusLog: Array<{ state: string; at: number }> }).statusLog,
  )
  const lost = log.findIndex((entry) => entry.at >= since && entry.state !== 'synced')
  const again = log.slice(lost).find((entry) => entry.state === 'synced')
  if (lost < 0 || again === undefined) throw new Error(`no handover in ${JSON.stringify(log)}`)
  return again.at
}

const allSaved = (pages: Page[]): Promise<unknown> =>
  Promise.all(pages.map((page) => untilState(page, 'saved', 30_000)))

describe('several tabs of one browser profile', () => {
  it('keeps tasks and note text a tab added offline across its reload (the README steps)', async () => {
    const doc = `steps-${Date.now()}`
    const [a, b] = (await tabs(doc, 2)) as [Page, Page]
    expect(await relaySockets(demo.relay.port)).toBe(1)

    await b.uncheck('#online')
    await untilState(b, 'offline')
    for (const title of ['B one', 'B two', 'B three']) await addTask(b, title)
    await typeInNote(b, 'Offline note from B. ')
    await until(async () => (await pendingOf(b)) >= 4, 'b counts its waiting changes')
    for (const title of ['A one', 'A two', 'A three']) await addTask(a, title)
    await typeInNote(a, 'Online note from A. ')
    await untilState(a, 'saved')

    await b.reload()
    await b.waitForSelector('.cm-content')
    expect(await b.locator('#online').isChecked()).toBe(false)
    const everyTask = ['A one', 'A two', 'A three', 'B one', 'B two', 'B three'].sort()
    await until(
      async () => (await taskTitles(b)).sort().join() === everyTask.join(),
      'b shows its own and a’s tasks after the reload',
    )
    expect(await noteText(b)).toContain('Offline note from B.')
    expect(await noteText(b)).toContain('Online note from A.')
    expect(await pendingOf(b)).toBeGreaterThanOrEqual(4)
    expect(await syncState(b)).toBe('offline')
    await b.screenshot({ path: join(SHOTS, 'tabs-1-offline-reload.png') })

    await b.check('#online')
    await allSaved([a, b])
    for (const page of [a, b]) {
      await until(
        async () => (await taskTitles(page)).sort().join() === everyTask.join(),
        'every task in both tabs',
      )
    }
    const note = await noteText(a)
    expect(await noteText(b)).toBe(note)
    expect(note).toContain('Offline note from B.')
    expect(await relayCopy(demo.relay.port, doc)).toEqual({
      note,
      tasks: expect.arrayContaining(everyTask) as unknown as string[],
    })
    expect((await relayCopy(demo.relay.port, doc)).tasks).toHaveLength(6)
    expect(await relaySockets(demo.relay.port)).toBe(1)
  }, 120_000)

  it('three tabs, two offline, 50 edits each with reloads in between: every edit everywhere', async () => {
    const doc = `three-${Date.now()}`
    const [a, b, c] = (await tabs(doc, 3)) as [Page, Page, Page]
    await b.uncheck('#online')
    await c.uncheck('#online')
    await Promise.all([
      appendTokens(a, tokensOf('a', 0, 25)),
      appendTokens(b, tokensOf('b', 0, 25)),
      appendTokens(c, tokensOf('c', 0, 25)),
    ])
    for (const page of [b, c]) {
      await page.reload()
      await page.waitForSelector('.cm-content')
    }
    await a.reload()
    await a.waitForSelector('.cm-content')
    await Promise.all([
      appendTokens(a, tokensOf('a', 25, 50)),
      appendTokens(b, tokensOf('b', 25, 50)),
      appendTokens(c, tokensOf('c', 25, 50)),
    ])
    await b.reload()
    await b.waitForSelector('.cm-content')
    await b.check('#online')
    await c.check('#online')
    await allSaved([a, b, c])
    const every = [...tokensOf('a', 0, 50), ...tokensOf('b', 0, 50), ...tokensOf('c', 0, 50)]
    const note = await noteText(a)
    expectEachOnce(note, every)
    for (const page of [b, c]) {
      await until(async () => (await noteText(page)) === note, 'the tabs converge')
    }
    expect((await relayCopy(demo.relay.port, doc)).note).toBe(note)
    expect(await relaySockets(demo.relay.port)).toBe(1)
  }, 180_000)

  it('the leading tab closed while the others have unsaved edits: every edit saved, once', async () => {
    const doc = `leader-closed-${Date.now()}`
    const [a, b, c] = (await tabs(doc, 3)) as [Page, Page, Page]
    // The relay is frozen: nothing the others send now can be saved before the leader goes.
    demo.relay.child.kill('SIGSTOP')
    try {
      await Promise.all([
        appendTokens(b, tokensOf('b', 0, 20)),
        appendTokens(c, tokensOf('c', 0, 20)),
      ])
      // Presence travels the same ordered channel as the edits and the hub passes it on at
      // once: once the leader's page sees each tab's fence, the hub holds that tab's edits.
      for (const page of [b, c]) await fence(page, a)
      expect(await pendingOf(b)).toBeGreaterThan(0)
      await a.close()
    } finally {
      demo.relay.child.kill('SIGCONT')
    }
    await allSaved([b, c])
    const every = [...tokensOf('b', 0, 20), ...tokensOf('c', 0, 20)]
    const note = await noteText(b)
    expectEachOnce(note, every)
    expect(await noteText(c)).toBe(note)
    expect((await relayCopy(demo.relay.port, doc)).note).toBe(note)
    await until(async () => (await relaySockets(demo.relay.port)) === 1, 'one socket again')
  }, 120_000)

  it('the leading tab crashing in the middle of a burst: every edit saved, once', async () => {
    const doc = `leader-crash-${Date.now()}`
    const [a, b, c] = (await tabs(doc, 3)) as [Page, Page, Page]
    const cdp = await a.context().newCDPSession(a)
    const crashed = new Promise((resolve) => a.once('crash', resolve))
    await recordStatuses(b)
    const burst = Promise.all([
      appendTokens(b, tokensOf('b', 0, 100)),
      appendTokens(c, tokensOf('c', 0, 100)),
      appendTokens(a, tokensOf('a', 0, 100)).catch(() => {}),
    ])
    await until(async () => (await noteText(b)).includes('[b30]'), 'the burst is under way')
    // The renderer dies: no unload handler runs, the browser releases the tab's locks.
    const crashedAt = Date.now()
    // (Page.crash never answers: the renderer it would answer from is gone.)
    void cdp.send('Page.crash').catch(() => {})
    await crashed
    await burst
    await allSaved([b, c])
    const handoverMs = (await syncedAgainAt(b, crashedAt)) - crashedAt
    console.log(`leader crash: b synced through the new leader ${handoverMs} ms after the crash`)
    expect(handoverMs).toBeLessThan(1000)
    const note = await noteText(b)
    expectEachOnce(note, [...tokensOf('b', 0, 100), ...tokensOf('c', 0, 100)])
    // The crashed tab's edits that reached the others are there once; none twice.
    const fromA = tokensOf('a', 0, 100).filter((token) => note.includes(token))
    expectEachOnce(note, fromA)
    expect(await noteText(c)).toBe(note)
    expect((await relayCopy(demo.relay.port, doc)).note).toBe(note)
  }, 120_000)

  it('a tab opened offline shows everything the other tabs stored', async () => {
    const doc = `opened-offline-${Date.now()}`
    const [a, b] = (await tabs(doc, 2)) as [Page, Page]
    await addTask(a, 'Saved by A')
    await untilState(a, 'saved')
    await b.uncheck('#online')
    await addTask(b, 'Stored by B, offline')
    await until(async () => (await pendingOf(b)) > 0, 'b has a waiting change')
    const c = await openTab(profile as BrowserContext, demo.relay.port, doc, { offline: true })
    await until(
      async () =>
        (await taskTitles(c)).sort().join() === ['Saved by A', 'Stored by B, offline'].join(),
      'c shows both tasks',
    )
    expect(await syncState(c)).toBe('offline')
  }, 120_000)

  it('tabs of a device gone offline still see each other, and all is saved once it is back', async () => {
    const doc = `device-offline-${Date.now()}`
    const [a, b] = (await tabs(doc, 2)) as [Page, Page]
    await (profile as BrowserContext).setOffline(true)
    await Promise.all([untilState(a, 'offline'), untilState(b, 'offline')])
    await typeInNote(a, 'A while the device is offline. ')
    await until(
      async () => (await noteText(b)).includes('A while the device is offline.'),
      'b sees a',
    )
    await addTask(b, 'B while the device is offline')
    await until(
      async () => (await taskTitles(a)).includes('B while the device is offline'),
      'a sees b',
    )
    expect(await syncState(a)).toBe('offline')
    await (profile as BrowserContext).setOffline(false)
    await allSaved([a, b])
    const note = await noteText(a)
    expect(await noteText(b)).toBe(note)
    const copy = await relayCopy(demo.relay.port, doc)
    expect(copy.note).toBe(note)
    expect(copy.tasks).toEqual(['B while the device is offline'])
  }, 120_000)
})
