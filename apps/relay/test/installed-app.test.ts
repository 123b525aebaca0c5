/**
 * Weft as an app installs it: every public package packed with pnpm, the tarballs installed with
 * npm into a fresh app outside the workspace, and then, with nothing from this repository on the
 * module path:
 * - the relay starts from the packed `weft-relay` bin on plain `node` (LevelDB on disk);
 * - a Node script using `@weft/client` + `ws` edits, is saved, and a second client converges;
 * - that script type-checks with `tsc --strict` against the shipped `.d.ts` (no casts for `ws`);
 * - a page importing `@weft/client`, bundled by Vite, edits in Chromium and is saved;
 * - a service using `@weft/service-client` reads both documents over HTTP;
 * - the React starter (examples/react-starter) installed from the same tarballs builds with its
 *   own Vite and, served by its own relay, syncs its board and its Tiptap note between two tabs.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { launchChromium } from '@weft/testkit'
import type { Browser, Page } from 'playwright-core'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pnpmCommand, publicPackages, ROOT } from '../../../scripts/workspace.js'

const run = promisify(execFile)
const FIXTURE = fileURLToPath(new URL('./fixtures/installed-app', import.meta.url))
const STARTER = fileURLToPath(new URL('../../../examples/react-starter', import.meta.url))

// Packed once for the file: both apps install the same tarballs.
const packs = mkdtempSync(join(tmpdir(), 'weft-packs-'))
let tarballs: string[] = []

beforeAll(async () => {
  await packPackages(packs)
  tarballs = readdirSync(packs).map((file) => join(packs, file))
}, 240_000)

afterAll(() => rmSync(packs, { recursive: true, force: true }))

/** The repository's own `pnpm pack-packages` into `destination`. */
const packPackages = (destination: string): Promise<unknown> => {
  const [command, ...prefix] = pnpmCommand()
  return run(command, [...prefix, 'pack-packages', destination], { cwd: ROOT, maxBuffer: 64 << 20 })
}

/** Starts the installed relay bin and resolves with its port once it logs `relay listening`. */
const startInstalledRelay = (
  app: string,
  args: string[],
  bin = '/app/node_modules/.bin/weft-relay',
  env: Record<string, string> = {},
): Promise<{ port: number; child: ChildProcess; output: () => string }> => {
  const child = spawn(bin.replace(/^\/app\//, `${app}/`), args, {
    cwd: app,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env['PATH'] ?? '', HOME: app, ...env },
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

/** The Dockerfile's entrypoint, its relay stage's environment and its health check command. */
const dockerfile = (): {
  entrypoint: string
  env: Record<string, string>
  healthcheck: string[]
} => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replaceAll('\\\n', ' ')
  const relayStage = text.slice(text.lastIndexOf('\nFROM '))
  const json = (pattern: RegExp): string[] => JSON.parse(pattern.exec(relayStage)?.[1] ?? '[]')
  const [entrypoint] = json(/^ENTRYPOINT (\[.*\])$/m)
  const env = Object.fromEntries(
    [...relayStage.matchAll(/^ENV (.*)$/gm)]
      .flatMap((line) => [...(line[1] as string).matchAll(/(\w+)=(\S+)/g)])
      .map((pair) => [pair[1] as string, pair[2] as string]),
  )
  expect(relayStage).toMatch(/^USER node$/m)
  expect(relayStage).toMatch(/^VOLUME \/data$/m)
  expect(entrypoint).toBeDefined()
  return {
    entrypoint: entrypoint as string,
    env,
    healthcheck: json(/^HEALTHCHECK .* CMD (\[.*\])$/m),
  }
}

/**
 * A module importing every entry of every installed Weft package, so that `tsc` checks all the
 * shipped declarations, not only those the app's scripts reach.
 */
const everyEntry = (app: string): string =>
  publicPackages()
    .flatMap((name) => {
      const manifest = JSON.parse(
        readFileSync(join(app, 'node_modules', name, 'package.json'), 'utf8'),
      ) as { exports: Record<string, unknown> }
      return Object.keys(manifest.exports).map((key) => name + key.slice(1))
    })
    .map((specifier, index) => `export * as entry${index} from '${specifier}'\n`)
    .join('')

describe('Weft installed from packed tarballs into an app outside the workspace', () => {
  const app = mkdtempSync(join(tmpdir(), 'weft-installed-app-'))
  let relay: Awaited<ReturnType<typeof startInstalledRelay>>
  let browser: Browser | undefined

  beforeAll(async () => {
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
        // @weft/react's declarations name React's types (npm installs React itself, a peer).
        '@types/react@^19',
        '@types/node@^20',
      ],
      { cwd: app, maxBuffer: 64 << 20, env: { ...process.env, npm_config_yes: 'true' } },
    )
    writeFileSync(join(app, 'entries.ts'), everyEntry(app))
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
      for (const file of ['LICENSE', 'README.md', 'CHANGELOG.md']) {
        expect(existsSync(join(app, 'node_modules', name, file))).toBe(true)
      }
    }
    // An app that keeps its local copy in memory or its own store is not made to install LevelDB.
    const client = JSON.parse(
      readFileSync(join(app, 'node_modules/@weft/client/package.json'), 'utf8'),
    ) as {
      dependencies: Record<string, string>
      peerDependenciesMeta: Record<string, { optional: boolean }>
    }
    expect(client.dependencies['level']).toBeUndefined()
    expect(client.peerDependenciesMeta['level']?.optional).toBe(true)
  })

  it('type-checks the app strictly against the shipped declarations', async () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc')
    const result = await run(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')], {
      cwd: app,
    }).catch((error: { stdout: string }) => ({ stdout: error.stdout, failed: true }))
    expect(result.stdout).toBe('')
    expect('failed' in result).toBe(false)
    // Every entry was in the program (a package with no entries would make this vacuous).
    expect(readFileSync(join(app, 'entries.ts'), 'utf8').split('\n').length).toBeGreaterThan(
      publicPackages().length,
    )
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

  it('stops cleanly on SIGTERM and restarts as the container runs it, data intact', async () => {
    const exited = new Promise<number | null>((resolve) =>
      relay.child.once('exit', (code) => resolve(code)),
    )
    relay.child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(relay.output()).toContain('"msg":"relay stopped"')
    // The container's entrypoint, environment and health check (no container engine needed): the
    // same data directory opens again, documents intact, and the health check passes.
    const image = dockerfile()
    relay = await startInstalledRelay(app, [], image.entrypoint, {
      ...image.env,
      WEFT_HOST: '127.0.0.1',
      WEFT_PORT: '0',
      WEFT_DATA: join(app, 'data'),
      WEFT_AUTH: 'open',
    })
    const [healthCommand = 'missing HEALTHCHECK', ...healthArgs] = image.healthcheck
    const health = await run(healthCommand, healthArgs, {
      env: { ...process.env, WEFT_PORT: String(relay.port) },
      timeout: 10_000,
    }).then(
      () => 0,
      (error: { code?: number }) => error.code ?? 1,
    )
    expect(health).toBe(0)
    const { stdout } = await run(
      process.execPath,
      [join(app, 'out/service.js'), `http://127.0.0.1:${relay.port}`, 'installed/notes'],
      { cwd: app, timeout: 30_000 },
    )
    expect(stdout).toContain('typed in an app that installed Weft')
  }, 60_000)
})

describe('the React starter installed from the packed tarballs, outside the workspace', () => {
  const starter = mkdtempSync(join(tmpdir(), 'weft-starter-'))
  let relay: Awaited<ReturnType<typeof startInstalledRelay>> | undefined
  let browser: Browser | undefined

  beforeAll(async () => {
    cpSync(STARTER, starter, {
      recursive: true,
      // What a clone holds: not a developer's install, build or data.
      filter: (source) => !/[/\\](node_modules|dist|\.weft-data|\.weft-packs)$/.test(source),
    })
    // As its README's first command does: the packed @weft/* in place of the npm versions.
    await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-save', ...tarballs],
      { cwd: starter, maxBuffer: 64 << 20, env: { ...process.env, npm_config_yes: 'true' } },
    )
    await run('npm', ['run', 'build'], { cwd: starter, maxBuffer: 64 << 20 })
    relay = await startInstalledRelay(starter, [
      '--port',
      '0',
      '--auth',
      'open',
      '--data',
      join(starter, '.weft-data'),
      '--static-dir',
      join(starter, 'dist'),
    ])
    browser = await launchChromium()
  }, 240_000)

  afterAll(async () => {
    await browser?.close()
    if (relay !== undefined && relay.child.exitCode === null) {
      const exited = new Promise((resolve) => relay?.child.once('exit', resolve))
      relay.child.kill('SIGTERM')
      await exited
    }
    rmSync(starter, { recursive: true, force: true })
  })

  it('renders, and syncs its task board and Tiptap note between two tabs of one profile', async () => {
    const context = await (browser as Browser).newContext()
    const openTab = async (): Promise<Page> => {
      const page = await context.newPage()
      page.on('pageerror', (error) => console.error('starter page error:', error.message))
      await page.goto(`http://127.0.0.1:${relay?.port}/?room=installed`)
      await page.waitForSelector('#task-title', { timeout: 20_000 })
      return page
    }
    const [first, second] = [await openTab(), await openTab()]
    for (const tab of [first, second])
      await tab.waitForSelector('.others:has-text("Also here")', { timeout: 10_000 })

    await first.fill('#task-title', 'Water the plants')
    await first.press('#task-title', 'Enter')
    await second.waitForSelector('.task .title:text-is("Water the plants")', { timeout: 10_000 })

    await second.locator('.editor .tiptap').click()
    await second.keyboard.type('Typed in the second tab')
    await first.waitForSelector('.editor .tiptap:has-text("Typed in the second tab")', {
      timeout: 10_000,
    })
    // Both documents saved on the relay's disk, as each tab shows it.
    for (const tab of [first, second]) {
      for (const doc of ['board', 'note']) {
        await tab.waitForSelector(
          `.sync[data-doc="${doc}"][data-state="synced"][data-pending="0"]`,
          { timeout: 10_000 },
        )
      }
    }
    expect(await second.locator('.task .title').allInnerTexts()).toEqual(['Water the plants'])
  }, 60_000)
})
