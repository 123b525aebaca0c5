/** What scripts and tests need to know of the workspace: its root, public packages and pnpm. */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** The workspace's public packages: name and directory. */
export const publicPackageDirs = (): { name: string; dir: string }[] =>
  ['packages', 'apps'].flatMap((group) =>
    readdirSync(join(ROOT, group)).flatMap((entry) => {
      const dir = join(ROOT, group, entry)
      const file = join(dir, 'package.json')
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name: string; private?: boolean }
      return manifest.private === true ? [] : [{ name: manifest.name, dir }]
    }),
  )

/** The names of the workspace's public packages. */
export const publicPackages = (): string[] => publicPackageDirs().map(({ name }) => name)

/**
 * How to run pnpm: under `pnpm run`/`pnpm test`, npm_execpath is pnpm itself (a native executable,
 * or a script run by node); otherwise the pinned pnpm through npx.
 */
export const pnpmCommand = (): [string, ...string[]] => {
  const execPath = process.env['npm_execpath']
  if (execPath === undefined || !/pnpm/.test(execPath)) return ['npx', '-y', 'pnpm@12.4.2']
  return /\.[cm]?js$/.test(execPath) ? [process.execPath, execPath] : [execPath]
}
