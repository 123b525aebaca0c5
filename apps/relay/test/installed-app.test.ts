/**
 * Weft as an app installs it: every public package packed with pnpm, the tarballs installed with
 * npm into a fresh app outside the workspace, and then, with nothing from this repository on the
 * module path:
 * - the relay starts from the packed `weft-relay` bin on plain `node` (LevelDB on disk);
 * - a Node script using `@weft/client` + `ws` edits, is saved, and a second client converges;
 * - that script type-checks with `tsc --strict` against the shipped `.d.ts` (no casts for `ws`);
 * - a page importing `@weft/client`, bundled by Vite, edits in Chromium and is saved;
 * - a service using `@weft/service-client` reads both documents over HTTP.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { launchChromium } from '@weft/testkit'
import type { Browser } from 'playwright-core'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const FIXTURE = fileURLToPath(new URL('./fixtures/installed-app', import.meta.url))

/** The workspace's publishable packages: every package.json under packages/ and apps/ not private. */
const publicPackages = (): string[] =>
  ['packages', 'apps'].flatMap((group) =>
    readdirSync(join(ROOT, group)).flatMap((dir) => {
      const manifest = JSON.parse(readFileSync(join(ROOT, group, dir, 'package.json'), 'utf8')) as {
        name: string
        private?: boolean
      }
      return manifest.private === true ? [] : [manifest.name]
    }),
  )

/** pnpm as the test runner's own (under `pnpm test`), else the pinned one through npx. */
const pnpm = (args: string[], cwd: string): Promise<{ stdout: string }> => {
  const execPath = process.env['npm_execpath']
  return execPath !== undefined && /pnpm/.test(execPath)
    ? run(process.execPath, [execPath, ...args], { cwd, maxBuffer: 64 << 20 })
    : run('npx', ['-y', 'pnpm@12.4.2', ...args], { cwd, maxBuffer: 64 << 20 })
}

/** Starts the installed relay bin and resolves with its port once it logs `relay listening`. */
const startInstalledRelay = (
  app: string,
  args: string[],
): Promise<{ port: number; child: ChildProcess; output: () => string }> => {
  const child = spawn(join(app, 'node_modules/.bin/weft-relay'), args, {
    cwd: app,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env['PATH'] ?? '', HOME: app },
  })
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start:\n${output}`)), 20_000)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = /"port":(\d+)[^\n]*"msg":"relay listening"/.exec(output)
      if (match === null) return
      clearTimeout(timer)
      resolve({ port: Number(match[1]), child, output: () => output })
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`relay exited (${code}) before listening:\n${output}`))
    })
  })
}

describe('Weft installed from packed tarballs into an app outside the workspace', () => {
  const app = mkdtempSync(join(tmpdir(), 'weft-installed-app-'))
  let relay: Awaited<ReturnType<typeof startInstalledRelay>>
  let browser: Browser | undefined

  beforeAll(async () => {
    const packs = join(app, 'packs')
    mkdirSync(packs)
    const filters = publicPackages().flatMap((name) => ['--filter', name])
    await pnpm(['-r', ...filters, 'pack', '--pack-destination', packs], ROOT)
    const tarballs = readdirSync(packs).map((file) => join(packs, file))
    expect(tarballs.length).toBe(publicPackages().length)
    cpSync(FIXTURE, app, { recursive: true })
    await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        ...tarballs,
        'ws@^8',
        '@types/ws@^8',
        '@types/node@^20',
      ],
      { cwd: app, maxBuffer: 64 << 20, env: { ...process.env, npm_config_yes: 'true' } },
    )
    await build({
      root: join(app, 'page'),
      logLevel: 'silent',
      configFile: false,
      build: { outDir: join(app, 'page-dist'), target: 'es2022' },
    })
    relay = await startInstalledRelay(app, [
      '--port',
      '0',
      '--data',
      join(app, 'data'),
      '--auth',
      'open',
      '--static-dir',
      join(app, 'page-dist'),
    ])
  }, 240_000)

  afterAll(async () => {
    await browser?.close()
    if (relay !== undefined && relay.child.exitCode === null) {
      const exited = new Promise((resolve) => relay.child.once('exit', resolve))
      relay.child.kill('SIGTERM')
      await exited
    }
    rmSync(app, { recursive: true, force: true })
  })

  it('installs each package from its tarball, not from the workspace', () => {
    for (const name of publicPackages()) {
      const manifest = JSON.parse(
        readFileSync(join(app, 'node_modules', name, 'package.json'), 'utf8'),
      ) as { exports: Record<string, { import: string }>; dependencies?: Record<string, string> }
      for (const entry of Object.values(manifest.exports)) {
        expect(entry.import).toMatch(/^\.\/dist\/.+\.js$/)
      }
      for (const version of Object.values(manifest.dependencies ?? {})) {
        expect(version).not.toMatch(/^workspace:/)
      }
    }
  })

  it('type-checks the app strictly against the shipped declarations', async () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc')
    const result = await run(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')], {
      cwd: app,
    }).catch((error: { stdout: string }) => ({ stdout: error.stdout, failed: true }))
    expect(result.stdout).toBe('')
    expect('failed' in result).toBe(false)
  }, 60_000)

  it('edits from Node with @weft/client + ws: saved, and a second client converges', async () => {
    const { stdout } = await run(
      process.execPath,
      [join(app, 'out/edit.js'), `ws://127.0.0.1:${relay.port}`],
      { cwd: app, timeout: 30_000 },
    )
    const result = JSON.parse(stdout.trim()) as {
      saved: { pending: number; lastSavedAt: number | null }
      converged: string
    }
    expect(result.saved.pending).toBe(0)
    expect(result.saved.lastSavedAt).toBeTypeOf('number')
    expect(result.converged).toBe('typed in an app that installed Weft')
  }, 60_000)

  it('edits from a Vite-bundled page in Chromium and is saved', async () => {
    browser = await launchChromium()
    const page = await browser.newPage()
    await page.goto(`http://127.0.0.1:${relay.port}/`)
    await page.waitForFunction(
      () => document.getElementById('status')?.textContent === 'saved 0',
      undefined,
      { timeout: 20_000 },
    )
  }, 60_000)

  it('reads both documents over HTTP with @weft/service-client', async () => {
    const url = `http://127.0.0.1:${relay.port}`
    for (const [name, text] of [
      ['installed/notes', 'typed in an app that installed Weft'],
      ['installed/page', 'typed in a bundled page'],
    ] as const) {
      const { stdout } = await run(process.execPath, [join(app, 'out/service.js'), url, name], {
        cwd: app,
        timeout: 30_000,
      })
      const result = JSON.parse(stdout.trim()) as {
        updateBytes: number
        document: { name: string; content: Record<string, unknown> }
      }
      expect(result.updateBytes).toBeGreaterThan(0)
      expect(result.document.name).toBe(name)
      expect(JSON.stringify(result.document.content)).toContain(text)
    }
  }, 60_000)

  it('stops cleanly on SIGTERM with everything on disk', async () => {
    const exited = new Promise<number | null>((resolve) =>
      relay.child.once('exit', (code) => resolve(code)),
    )
    relay.child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(relay.output()).toContain('"msg":"relay stopped"')
    // The same data directory opens again under the installed relay, documents intact.
    relay = await startInstalledRelay(app, [
      '--port',
      '0',
      '--data',
      join(app, 'data'),
      '--auth',
      'open',
    ])
    const { stdout } = await run(
      process.execPath,
      [join(app, 'out/service.js'), `http://127.0.0.1:${relay.port}`, 'installed/notes'],
      { cwd: app, timeout: 30_000 },
    )
    expect(stdout).toContain('typed in an app that installed Weft')
  }, 60_000)
})
