/** launchChromium: the system's Chromium (Debian's package) under playwright-core, for browser tests. */
import { existsSync } from 'node:fs'
import type { Browser } from 'playwright-core'
import { systemTool } from './system-tool.js'

/** Flags for a closed network: no sandbox (containers), no GPU, no background traffic. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']

/** The Chromium executable: `CHROMIUM_PATH`, a system one, or Debian's `chromium` (apt-get). */
export const chromiumPath = (): string =>
  systemTool({
    name: 'Chromium',
    envVar: 'CHROMIUM_PATH',
    aptPackage: 'chromium',
    find: () => CANDIDATES.find((path) => existsSync(path)),
  })

/**
 * Launches headless Chromium with the flags above. playwright-core is loaded here, not with the
 * kit: it takes over half a second to import, which every test file of the kit would pay.
 */
export const launchChromium = async (): Promise<Browser> => {
  const { chromium } = await import('playwright-core')
  return chromium.launch({ executablePath: chromiumPath(), args: FLAGS, headless: true })
}
