/**
 * Packs every public workspace package (each package.json under packages/ and apps/ that is not
 * private) into one directory, as `pnpm pack` publishes them: built JavaScript and declarations,
 * `workspace:` versions replaced. Usage: `pnpm pack-packages <directory>`.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { pnpmCommand, publicPackages, ROOT } from './workspace.js'

const destination = process.argv[2]
if (destination === undefined) {
  console.error('usage: pnpm pack-packages <directory>')
  process.exit(2)
}
mkdirSync(resolve(destination), { recursive: true })
const [command, ...prefix] = pnpmCommand()
const filters = publicPackages().flatMap((name) => ['--filter', name])
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
