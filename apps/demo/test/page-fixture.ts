/**
 * A test page for browser tests: a directory with an index.html, built with Vite into a
 * directory of its own (test files run in parallel), served by a relay process, in Chromium.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { launchChromium, spawnRelay, type RelayProcess } from '@weft/testkit'
import type { Browser } from 'playwright-core'
import { build } from 'vite'

const RELAY_MAIN = fileURLToPath(new URL('../../relay/src/main.ts', import.meta.url))

/** A relay process serving a fresh build of a page, and a Chromium. */
export interface PageFixture {
  readonly relay: RelayProcess
  readonly browser: Browser
  /** Stops the browser and the relay, removes the build and the relay's data. */
  close(): Promise<void>
}

/** How a page is built and served. */
export interface PageOptions {
  /** More options of the relay serving it (`--static-dir` is set). */
  readonly relayArgs?: readonly string[]
  /** Module aliases of the build. */
  readonly alias?: Record<string, string>
  /** Vite's chunk size warning limit, in kB (the editors' bundles are large). */
  readonly chunkSizeWarningLimit?: number
  /** A Vite config to build with (an app's own) instead of the options above. */
  readonly configFile?: string
}

/** Builds the page at `root` (or as `options.configFile` says) and serves it with a relay. */
export const startPage = async (root: string, options: PageOptions = {}): Promise<PageFixture> => {
  const outDir = mkdtempSync(join(tmpdir(), 'weft-test-page-'))
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-test-page-relay-'))
  await build(
    options.configFile === undefined
      ? {
          root,
          base: './',
          logLevel: 'warn',
          configFile: false,
          resolve: { alias: options.alias ?? {} },
          build: {
            outDir,
            emptyOutDir: true,
            target: 'es2022',
            chunkSizeWarningLimit: options.chunkSizeWarningLimit ?? 4096,
          },
        }
      : { configFile: options.configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } },
  )
  const relayArgs = ['--static-dir', outDir, ...(options.relayArgs ?? [])]
  const relay = await spawnRelay(RELAY_MAIN, dataDir, relayArgs)
  const browser = await launchChromium()
  return {
    relay,
    browser,
    close: async () => {
      await browser.close()
      await relay.stop()
      for (const dir of [outDir, dataDir]) rmSync(dir, { recursive: true, force: true })
    },
  }
}
