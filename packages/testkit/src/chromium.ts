/** launchChromium: the system's Chromium (Debian's package) under playwright-core, for browser tests. */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { Browser } from 'playwright-core'

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

/**
 * The Chromium executable: `CHROMIUM_PATH`, a system one, or (when missing) Debian's `chromium`
 * installed with apt-get (as root, or through `sudo -n`). Throws with what to do otherwise.
 */
export const chromiumPath = (): string => {
  const fromEnv = process.env['CHROMIUM_PATH']
  if (fromEnv) return fromEnv
  const found = CANDIDATES.find((path) => existsSync(path))
  if (found !== undefined) return found
  const asRoot = process.getuid?.() === 0
  const run = (args: string[]): void => {
    const [command, ...rest] = asRoot ? args : ['sudo', '-n', ...args]
    execFileSync(command as string, rest, { stdio: 'inherit', timeout: 600_000 })
  }
  try {
    run(['apt-get', 'update'])
    run(['apt-get', 'install', '-y', 'chromium'])
  } catch (cause) {
    throw new Error(
      'Chromium is missing and apt-get could not install it: install the chromium package or set CHROMIUM_PATH',
      { cause },
    )
  }
  const installed = CANDIDATES.find((path) => existsSync(path))
  if (installed === undefined)
    throw new Error('apt-get installed chromium but no executable was found')
  return installed
}

/**
 * Launches headless Chromium with the flags above. playwright-core is loaded here, not with the
 * kit: it takes over half a second to import, which every test file of the kit would pay.
 */
export const launchChromium = async (): Promise<Browser> => {
  const { chromium } = await import('playwright-core')
  return chromium.launch({ executablePath: chromiumPath(), args: FLAGS, headless: true })
}
