import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { extname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { launchChromium, startTestRelay, type TestRelay } from '@weft/testkit'
import type { Browser, Page } from 'playwright-core'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const PAGE = fileURLToPath(new URL('./browser/', import.meta.url))
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' }

let outDir: string
let pages: Server
let relay: TestRelay
let browser: Browser

/** Serves the built page (the relay serves documents only). */
const serve = (dir: string): Promise<Server> =>
  new Promise((resolve) => {
    const server = createServer((request, response) => {
      const path = new URL(request.url ?? '/', 'http://page').pathname
      const file = join(dir, normalize(path === '/' ? '/index.html' : path))
      try {
        const body = readFileSync(file)
        response.writeHead(200, {
          'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        })
        response.end(body)
      } catch {
        response.writeHead(404).end()
      }
    })
    server.listen(0, '127.0.0.1', () => resolve(server))
  })

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'weft-react-page-'))
  await build({
    root: PAGE,
    base: './',
    logLevel: 'warn',
    configFile: false,
    build: { outDir, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096 },
  })
  ;[pages, relay, browser] = await Promise.all([serve(outDir), startTestRelay(), launchChromium()])
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await relay?.close()
  await new Promise((resolve) => pages?.close(resolve))
  if (outDir) rmSync(outDir, { recursive: true, force: true })
})

/** Opens the board as `name` in a new browser profile. */
const openBoard = async (name: string): Promise<Page> => {
  const page = await (await browser.newContext()).newPage()
  page.on('pageerror', (error) => console.error('page error:', error.message))
  const { port } = pages.address() as AddressInfo
  await page.goto(`http://127.0.0.1:${port}/?relay=${relay.url}&doc=board&name=${name}`)
  await page.waitForSelector('#sync[data-state="synced"]', { timeout: 15_000 })
  return page
}

const titles = (page: Page): Promise<string[]> => page.locator('.task').allInnerTexts()

describe('@weft/react in Chromium', () => {
  it('renders a board that syncs between two browsers, with status, saved edits and presence', async () => {
    const [ana, ben] = await Promise.all([openBoard('Ana'), openBoard('Ben')])
    await ana.waitForSelector('#peers:text-is("Ben")')
    await ben.waitForSelector('#peers:text-is("Ana")')

    await ana.fill('#title', 'Ship the beta')
    await ana.press('#title', 'Enter')
    await ben.waitForSelector('.task:text-is("Ship the beta")', { timeout: 10_000 })
    // Saved: the relay reported the edit on its disk, and the page says so.
    await ana.waitForSelector('#sync[data-state="synced"][data-pending="0"]')
    expect(await titles(ana)).toEqual(['Ship the beta'])

    await ben.fill('#title', 'Write the notes')
    await ben.press('#title', 'Enter')
    await ana.waitForSelector('.task:text-is("Write the notes")', { timeout: 10_000 })
    expect(await titles(ana)).toEqual(await titles(ben))
    expect((await titles(ben)).sort()).toEqual(['Ship the beta', 'Write the notes'])
  })
})
