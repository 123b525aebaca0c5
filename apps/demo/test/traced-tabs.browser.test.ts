/**
 * Traces from tabs of ONE browser profile, as users run them: two tabs of a page built with
 * Vite share the profile's IndexedDB store, so only the leading tab holds a relay connection.
 * Each tab traces with the OpenTelemetry SDK; the relay process exports its spans over OTLP.
 * An edit typed in the other tab travels through the leader to the relay in its own trace: the
 * relay's `weft.update` span is a child of that tab's `weft.edit` span, which ends saved.
 */
import { fileURLToPath } from 'node:url'
import { childSpanNames, startOtlpReceiver, type OtlpReceiver } from '@weft/testkit'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { relaySockets, until } from './demo-fixture.js'
import { startPage, type PageFixture } from './page-fixture.js'
import type { TracedTabApi } from './traced-tabs/page-api.js'

const PAGE = fileURLToPath(new URL('./traced-tabs/', import.meta.url))
let fixture: PageFixture
let receiver: OtlpReceiver
let profile: BrowserContext | undefined
const saved = { ...process.env }

beforeAll(async () => {
  receiver = await startOtlpReceiver()
  // The relay process inherits it: span batches leave after 50 ms rather than 5 s.
  process.env['OTEL_BSP_SCHEDULE_DELAY'] = '50'
  fixture = await startPage(PAGE, { relayArgs: ['--otlp-endpoint', receiver.url] })
}, 600_000)

afterAll(async () => {
  process.env = { ...saved }
  await profile?.close()
  await fixture?.close()
  await receiver?.close()
})

type Window = { tracedTab: TracedTabApi }

const stateOf = (page: Page): Promise<string> =>
  page.evaluate(() => (window as unknown as Window).tracedTab.state())
const textOf = (page: Page): Promise<string> =>
  page.evaluate(() => (window as unknown as Window).tracedTab.text())
const spansOf = (page: Page): Promise<ReturnType<TracedTabApi['spans']>> =>
  page.evaluate(() => (window as unknown as Window).tracedTab.spans())
const edit = (page: Page, text: string): Promise<void> =>
  page.evaluate((text) => (window as unknown as Window).tracedTab.edit(text), text)

const openTab = async (context: BrowserContext, doc: string): Promise<Page> => {
  const page = await context.newPage()
  page.on('pageerror', (error) => console.error('traced tab page error:', error.message))
  await page.goto(`http://127.0.0.1:${fixture.relay.port}/?doc=${doc}`)
  await page.waitForFunction(() => 'tracedTab' in window)
  return page
}

describe('tracing in tabs of one browser profile', () => {
  it("an edit typed in a tab that does not lead is traced to the relay through the leader's connection", async () => {
    const doc = `traced-tabs-${Date.now()}`
    profile = await fixture.browser.newContext()
    // One after the other: the first tab leads (it asked for the leader lock first).
    const leader = await openTab(profile, doc)
    const other = await openTab(profile, doc)
    for (const page of [leader, other]) {
      await until(async () => (await stateOf(page)) === 'synced', 'both tabs are synced', 20_000)
    }
    // Only the leader holds a socket to the relay.
    expect(await relaySockets(fixture.relay.port)).toBe(1)

    await edit(other, 'typed in the other tab')
    const edits = (await spansOf(other)).filter((span) => span.name === 'weft.edit')
    expect(edits).toHaveLength(1)
    const [edited] = edits as [(typeof edits)[number]]
    // Ended when the relay's acknowledgement reached this tab through the leader.
    expect(edited.events).toContain('weft.saved')
    expect(edited.status).not.toBe(2)
    // The leader carried the edit but did not make it: no span of its own for it.
    const leaderSpans = await spansOf(leader)
    expect(leaderSpans.filter((span) => span.traceId === edited.traceId)).toEqual([])
    await until(
      async () => (await textOf(leader)) === 'typed in the other tab',
      'the leader shows the edit',
    )

    // The relay's spans for the update continue the tab's trace: weft.update under weft.edit.
    const body = await receiver.until(Buffer.from(edited.traceId, 'hex'))
    expect(childSpanNames(body, edited.spanId)).toContain('weft.update')
  }, 60_000)
})
