/**
 * Packs every public workspace package (each package.json under packages/ and apps/ that is not
 * private) into one directory, as `pnpm pack` publishes them: built JavaScript and declarations,
 * `workspace:` versions replaced, from a clean build. Usage: `pnpm pack-packages <directory>`.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pnpmCommand, publicPackageDirs, ROOT } from './workspace.js'

const destination = process.argv[2]
if (destination === undefined) {
  console.error('usage: pnpm pack-packages <directory>')
  process.exit(2)
}
mkdirSync(resolve(destination), { recursive: true })
// A clean build: tsc -b never removes the output of a source file that is gone.
const packages = publicPackageDirs()
for (const { dir } of packages) rmSync(join(dir, 'dist'), { recursive: true, force: true })
// One build of them all first, so the packs' own prepack builds find everything up to date.
execFileSync(
  process.execPath,
  [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', join(ROOT, 'tsconfig.build.json')],
  { stdio: ['ignore', 2, 'inherit'] },
)
const [command, ...prefix] = pnpmCommand()
const filters = packages.flatMap(({ name }) => ['--filter', name])
execFileSync(
  command,
  [...prefix, '-r', ...filters, 'pack', '--pack-destination', resolve(destination)],
  { cwd: ROOT, stdio: ['ignore', 2, 'inherit'] },
)
console.log(
  readdirSync(resolve(destination))
    .filter((file) => file.endsWith('.tgz'))
    .join('\n'),
)
