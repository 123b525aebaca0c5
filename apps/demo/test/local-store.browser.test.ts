import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { launchChromium, spawnRelay, type RelayProcess } from '@weft/testkit'
import type { Browser } from 'playwright-core'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const PAGE = fileURLToPath(new URL('./conformance/', import.meta.url))
const RELAY_MAIN = fileURLToPath(new URL('../../relay/src/main.ts', import.meta.url))

let relay: RelayProcess
let browser: Browser
let outDir: string
let dataDir: string

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'weft-conformance-page-'))
  dataDir = mkdtempSync(join(tmpdir(), 'weft-conformance-relay-'))
  // The suite imports `vitest`; in the page that is a shim running it with Vitest's matchers.
  await build({
    root: PAGE,
    base: './',
    logLevel: 'warn',
    configFile: false,
    resolve: { alias: { vitest: join(PAGE, 'vitest-shim.ts') } },
    build: { outDir, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096 },
  })
  // Any static server will do; the relay's is at hand.
  relay = await spawnRelay(RELAY_MAIN, dataDir, ['--static-dir', outDir])
  browser = await launchChromium()
}, 600_000)

afterAll(async () => {
  await browser?.close()
  await relay?.stop()
  for (const dir of [outDir, dataDir]) if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('the LocalStore conformance suite in Chromium', () => {
  it('passes on IndexedDB (LevelLocalStore through browser-level)', async () => {
    const page = await browser.newPage()
    page.on('pageerror', (error) => console.error('page error:', error.message))
    await page.goto(`http://127.0.0.1:${relay.port}/`)
    await page.waitForFunction(() => 'runConformance' in window)
    const results = await page.evaluate(() =>
      (
        window as unknown as {
          runConformance: () => Promise<Array<{ name: string; error: string | null }>>
        }
      ).runConformance(),
    )
    const failures = results.filter((result) => result.error !== null)
    for (const failure of failures) console.error(`${failure.name}\n${failure.error}`)
    // Every case of the suite, durable ones included, ran and passed.
    expect(results.length).toBeGreaterThanOrEqual(15)
    expect(failures).toEqual([])
  }, 120_000)
})
