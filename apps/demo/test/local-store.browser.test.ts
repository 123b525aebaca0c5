import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { tabApi } from './conformance/tab-api.js'
import { startPage, type PageFixture } from './page-fixture.js'

const PAGE = fileURLToPath(new URL('./conformance/', import.meta.url))
let fixture: PageFixture
let browser: Browser

beforeAll(async () => {
  // The suite imports `vitest`; in the page that is a shim running it with Vitest's matchers.
  // Any static server will do; the relay's is at hand.
  fixture = await startPage(PAGE, { alias: { vitest: join(PAGE, 'vitest-shim.ts') } })
  browser = fixture.browser
}, 600_000)

afterAll(async () => {
  await fixture?.close()
})

/** Opens the conformance page in a new tab of `context` (a browser context is one profile). */
const openTab = async (context: BrowserContext | Browser): Promise<Page> => {
  const page = await context.newPage()
  page.on('pageerror', (error) => console.error('page error:', error.message))
  await page.goto(`http://127.0.0.1:${fixture.relay.port}/`)
  await page.waitForFunction(() => 'weftTab' in window)
  return page
}

type TabApi = typeof tabApi

/** Calls `weftTab[method](...args)` in the page of `tab`. */
const call = <M extends keyof TabApi>(
  tab: Page,
  method: M,
  ...args: Parameters<TabApi[M]>
): Promise<Awaited<ReturnType<TabApi[M]>>> =>
  tab.evaluate(
    ({ method, args }) =>
      (window as unknown as { weftTab: Record<string, (...args: unknown[]) => unknown> }).weftTab[
        method
      ]!(...args),
    { method, args: args as unknown[] },
  ) as Promise<Awaited<ReturnType<TabApi[M]>>>

describe('the LocalStore conformance suites in Chromium', () => {
  it('pass on IndexedDB: the suite, the shared-storage suite with two openers in one page, and LevelLocalStore cases', async () => {
    const page = await openTab(browser)
    const results = await page.evaluate(() =>
      (
        window as unknown as {
          runConformance: () => Promise<Array<{ name: string; error: string | null }>>
        }
      ).runConformance(),
    )
    const failures = results.filter((result) => result.error !== null)
    for (const failure of failures) console.error(`${failure.name}\n${failure.error}`)
    // Every case of every suite ran (durable ones included) and passed.
    const ran = (prefix: string): number =>
      results.filter((result) => result.name.startsWith(prefix)).length
    expect(ran('LocalStore conformance: LevelLocalStore on IndexedDB')).toBeGreaterThanOrEqual(15)
    expect(ran('LocalStore conformance, shared storage: LevelLocalStore')).toBeGreaterThanOrEqual(6)
    expect(
      ran('LocalStore conformance, shared storage: encryptLocalStore(LevelLocalStore)'),
    ).toBeGreaterThanOrEqual(6)
    expect(ran('LevelLocalStore in the browser')).toBeGreaterThanOrEqual(6)
    expect(failures).toEqual([])
    await page.close()
  }, 120_000)
})

describe('two tabs of one browser context on one IndexedDB database', () => {
  let context: BrowserContext
  let location: string
  let run = 0
  beforeEach(async () => {
    context = await browser.newContext()
    location = `tabs-${Date.now()}-${++run}`
  })
  afterEach(async () => {
    await context.close()
  })

  it("adopts the outbox of a tab that closed without closing its store, and reads a live tab's", async () => {
    const tabA = await openTab(context)
    const tabB = await openTab(context)
    const writerA = await call(tabA, 'open', location, 'tab')
    const writerB = await call(tabB, 'open', location, 'tab')
    expect(writerA).not.toBe(writerB)
    await call(tabB, 'write', 'doc', ['b0'], 1, 200)
    await call(tabA, 'write', 'doc', ['a0', 'a1', 'a2'], 1, 100)
    // While A lives, B reads its edits and leaves its outbox alone.
    const live = await call(tabB, 'load', 'doc')
    expect(live.keys).toEqual(['a0', 'a1', 'a2', 'b0'])
    expect(live.outbox).toEqual([{ ref: 1, key: 'b0' }])
    await tabA.close({ runBeforeUnload: false })
    await call(tabB, 'waitUntilGone', location, writerA)
    const adopted = await call(tabB, 'load', 'doc')
    expect(adopted.outbox).toEqual([
      { ref: 1, key: 'b0' },
      { ref: 2, key: 'a0' },
      { ref: 3, key: 'a1' },
      { ref: 4, key: 'a2' },
    ])
    expect(adopted.lastRef).toBe(4)
    expect(adopted.keys).toEqual(['a0', 'a1', 'a2', 'b0'])
    const keys = await call(tabB, 'rawKeys', location)
    expect(keys.filter((key) => key.includes(`:w:${writerA}:`))).toEqual([])
  }, 60_000)

  it('loses nothing when both tabs write one document at once', async () => {
    const tabA = await openTab(context)
    const tabB = await openTab(context)
    const writerA = await call(tabA, 'open', location, 'tab')
    await call(tabB, 'open', location, 'tab')
    const count = 30
    const labels = (prefix: string): string[] =>
      Array.from({ length: count }, (_, index) => `${prefix}${String(index).padStart(2, '0')}`)
    await Promise.all([
      call(tabA, 'write', 'doc', labels('a'), 1, 1000),
      call(tabB, 'write', 'doc', labels('b'), 1, 2000),
    ])
    const all = labels('a').concat(labels('b'))
    for (const [tab, prefix] of [
      [tabA, 'a'],
      [tabB, 'b'],
    ] as const) {
      const loaded = await call(tab, 'load', 'doc')
      expect(loaded.keys).toEqual(all)
      expect(loaded.outbox).toEqual(labels(prefix).map((key, index) => ({ ref: index + 1, key })))
    }
    await tabA.close({ runBeforeUnload: false })
    await call(tabB, 'waitUntilGone', location, writerA)
    const adopted = await call(tabB, 'load', 'doc')
    expect(adopted.keys).toEqual(all)
    expect(adopted.outbox.map(({ key }) => key)).toEqual(labels('b').concat(labels('a')))
    expect(new Set(adopted.outbox.map(({ ref }) => ref)).size).toBe(2 * count)
  }, 60_000)

  it('gives a reloaded tab its own namespace back', async () => {
    const tab = await openTab(context)
    const writer = await call(tab, 'open', location, 'tab')
    await call(tab, 'write', 'doc', ['a0'], 1, 100)
    await tab.reload()
    await tab.waitForFunction(() => 'weftTab' in window)
    await call(tab, 'waitUntilGone', location, writer)
    expect(await call(tab, 'open', location, 'tab')).toBe(writer)
    expect(await call(tab, 'load', 'doc')).toEqual({
      keys: ['a0'],
      outbox: [{ ref: 1, key: 'a0' }],
      lastRef: 1,
    })
  }, 60_000)
})
